package ringfeed

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

func validConfig() Config {
	return Config{Category: Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"}, Logger: quietLogger()}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	f := func(field string, mutate func(*Config)) {
		t.Helper()
		c := validConfig()
		mutate(&c)
		err := c.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: got %v; want a *ConfigError", field, err)
		}
		if ce.Field != field {
			t.Errorf("got field %q (%v); want %q", ce.Field, err, field)
		}
		// The library speaks in Config fields, not in the CLI's flags.
		if !strings.Contains(err.Error(), "Config."+field+": ") || strings.Contains(err.Error(), "--") {
			t.Errorf("message %q does not name Config.%s, or speaks in flag syntax", err, field)
		}
	}
	f("Category", func(c *Config) { c.Category = "" })
	f("Category", func(c *Config) { c.Category = "futures" })
	f("Symbols", func(c *Config) { c.Symbols = nil })
	f("Symbols", func(c *Config) { c.Symbols = []string{"btcusdt"} })
	f("Symbols", func(c *Config) { c.Symbols = []string{"BTCUSDT", "BTCUSDT"} })
	f("Symbols", func(c *Config) { c.Symbols = []string{"BTC\x00"} })
	f("Topics", func(c *Config) { c.Topics = nil })
	f("Topics", func(c *Config) { c.Topics = []string{"orderbook.500"} })
	f("Topics", func(c *Config) { c.Topics = []string{"orderbook.x"} })
	f("Topics", func(c *Config) { c.Topics = []string{"kline.2"} })
	f("Topics", func(c *Config) { c.Topics = []string{"tickers.BTCUSDT"} })
	f("Topics", func(c *Config) { c.Topics = []string{"liquidation"} })
	f("Topics", func(c *Config) { c.Category, c.Topics = Option, []string{"kline.1"} })
	f("Topics", func(c *Config) { c.Category, c.Topics = Option, []string{"orderbook.50"} })
	f("Topics", func(c *Config) { c.Topics = []string{"tickers", "tickers"} })
	f("WSURL", func(c *Config) { c.WSURL = "http://stream.bybit.com" })
	f("WSURL", func(c *Config) { c.WSURL = "ws://" })
	f("RESTURL", func(c *Config) { c.RESTURL = "ftp://x" })
	f("Admin", func(c *Config) { c.Admin = "9100" })
	f("Admin", func(c *Config) { c.Admin = "0.0.0.0:9100" })
	f("Admin", func(c *Config) { c.Admin = ":9100" })
	f("Processors", func(c *Config) { c.Processors = -1 })
	f("CPUs", func(c *Config) { c.CPUs = []int{4096} })
	f("Isolate", func(c *Config) { c.Isolate, c.CPUs = true, []int{0} })  // parked processors own no CPU
	f("Isolate", func(c *Config) { c.Isolate, c.Wait = true, ring.Spin }) // nothing bound
	f("Isolate", func(c *Config) { c.Isolate, c.Pin = true, true })       // pinned, not spinning
	f("RingSize", func(c *Config) { c.RingSize = 1000 })
	f("RingSize", func(c *Config) { c.RingSize = 32 })
	f("SymbolsPerConn", func(c *Config) { c.SymbolsPerConn = -3 })
	f("ConnectLimit", func(c *Config) { c.ConnectLimit = 501 }) // over Bybit's 500 per 5 minutes
	f("ConnectLimit", func(c *Config) { c.ConnectLimit = 1 })
	f("ConnectLimit", func(c *Config) { c.ConnectLimit = -1 })
	f("Session.Dial.MaxMessageSize", func(c *Config) { c.Session.Dial.MaxMessageSize = 100 })
	f("Session.PingInterval", func(c *Config) { c.Session.PingInterval = -time.Second })
	f("Session.PingInterval", func(c *Config) { c.Session.PingInterval = time.Nanosecond })
	f("Session.PongTimeout", func(c *Config) { c.Session.PongTimeout = time.Nanosecond })
	f("Session.BackoffCap", func(c *Config) { c.Session.BackoffBase, c.Session.BackoffCap = time.Second, time.Millisecond })
	f("Session.BackoffCap", func(c *Config) { c.Session.BackoffBase = time.Minute }) // above the default cap
	f("Session.Dial.IdleTimeout", func(c *Config) { c.Session.Dial.IdleTimeout, c.Session.PingInterval = 10*time.Second, 20*time.Second })
	f("Session.Dial.IdleTimeout", func(c *Config) { c.Session.PingInterval = time.Minute }) // above the default idle timeout
	f("Probe.Timeout", func(c *Config) { c.Probe.ConnectTimeout, c.Probe.Timeout = 5*time.Second, time.Second })
	f("KlineWindow", func(c *Config) { c.KlineWindow = -1 })
	f("TradeTape", func(c *Config) { c.TradeTape = 2000000 })
	f("HookBudget", func(c *Config) { c.HookBudget = time.Nanosecond })
	f("Session.URL", func(c *Config) { c.Session.URL = "ws://127.0.0.1:1" })
	f("Probe.URL", func(c *Config) { c.Probe.URL = "http://127.0.0.1:1" })
	f("Wait", func(c *Config) { c.Wait = 9 })
	f("Wait", func(c *Config) { c.Wait, c.Processors = ring.Spin, runtime.GOMAXPROCS(0) }) // no P left for the readers
}

func TestConfigDefaults(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.WSURL != MainnetWS+"linear" || c.RESTURL != MainnetREST {
		t.Errorf("got %s %s; want Bybit mainnet", c.WSURL, c.RESTURL)
	}
	// A library user gets no admin server unless asked.
	if c.Admin != "off" || c.RingSize != DefaultRingSize || c.KlineWindow != DefaultKlineWindow || c.Processors < 1 || c.NoKlineHistory {
		t.Errorf("defaults not filled: %+v", c)
	}
	// The session's settings stay zero: net/session fills them, from its
	// own constants (one source of defaults).
	if c.Session.PingInterval != 0 || c.Session.Dial.IdleTimeout != 0 || c.Probe.Timeout != 0 {
		t.Errorf("Validate wrote lower-layer defaults: %+v %+v", c.Session, c.Probe)
	}
	c = validConfig()
	c.WSURL, c.RESTURL = "testnet", "testnet"
	if err := c.Validate(); err != nil || c.WSURL != TestnetWS+"linear" || c.RESTURL != TestnetREST {
		t.Errorf("testnet by name: %v %s %s", err, c.WSURL, c.RESTURL)
	}
	c = validConfig()
	c.Admin, c.AdminPublic = "0.0.0.0:9100", true
	if err := c.Validate(); err != nil {
		t.Errorf("AdminPublic: %v", err)
	}
	for _, a := range []string{"127.0.0.1:0", "[::1]:9100", "localhost:9100"} {
		c = validConfig()
		c.Admin = a
		if err := c.Validate(); err != nil {
			t.Errorf("loopback %s: %v", a, err)
		}
	}
}

// Validate trims the symbols into a slice of its own: the caller's stays
// as it was.
func TestConfigValidateLeavesCallerSlices(t *testing.T) {
	syms := []string{" BTCUSDT", "ETHUSDT "}
	c := validConfig()
	c.Symbols = syms
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if syms[0] != " BTCUSDT" || syms[1] != "ETHUSDT " {
		t.Errorf("caller's slice changed: %q", syms)
	}
	if c.Symbols[0] != "BTCUSDT" || c.Symbols[1] != "ETHUSDT" {
		t.Errorf("symbols not trimmed: %q", c.Symbols)
	}
}

func TestRange(t *testing.T) {
	if r, ok := Range("Session.PingInterval"); !ok || r != "[100ms, 10m0s]" {
		t.Errorf("Range(Session.PingInterval) = %q, %v", r, ok)
	}
	if r, ok := Range("RingSize"); !ok || r != "[64, 1048576]" {
		t.Errorf("Range(RingSize) = %q, %v", r, ok)
	}
	if _, ok := Range("Symbols"); ok {
		t.Error("Range(Symbols): want none")
	}
}

// The CA file is read once in New: a missing file or one without a PEM
// certificate is a configuration error there, not a warning at every dial.
func TestCAFileCheckedInNew(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "hostname")
	if err := os.WriteFile(notPEM, []byte("myhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "missing.pem"), notPEM} {
		c := validConfig()
		c.Admin, c.WSURL, c.RESTURL, c.CAFile = "off", "ws://127.0.0.1:1", "http://127.0.0.1:1", f
		_, err := New(c)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "CAFile" {
			t.Errorf("CAFile %s: got %v; want a ConfigError for CAFile", f, err)
		}
	}
	c := validConfig()
	c.Admin, c.WSURL, c.RESTURL, c.CAFile = "off", "ws://127.0.0.1:1", "http://127.0.0.1:1", writeTestCA(t, dir)
	if _, err := New(c); err != nil {
		t.Errorf("valid CA file: %v", err)
	}
}

func TestShardingGroupsOptionsByBaseCoin(t *testing.T) {
	cfg := Config{Category: Option, Symbols: []string{"BTC-1", "ETH-1", "BTC-2", "ETH-2", "BTC-3"},
		Topics: []string{"orderbook.25", "publicTrade"}, SymbolsPerConn: 2, Admin: "off", Logger: quietLogger()}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range e.conns {
		got = append(got, strings.Join(c.topics, " "))
	}
	want := []string{
		"orderbook.25.BTC-1 publicTrade.BTC orderbook.25.BTC-2",
		"orderbook.25.BTC-3 publicTrade.BTC",
		"orderbook.25.ETH-1 publicTrade.ETH orderbook.25.ETH-2",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got connections\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMarkerKindsDoNotCollide(t *testing.T) {
	// The parser names every kind it produces; the engine's markers must
	// be outside that set.
	for _, k := range []parse.Kind{kindDropped, kindReset, kindRaw} {
		if name := k.String(); !strings.HasPrefix(name, "kind(") {
			t.Errorf("marker kind %d is the parser's kind %q", k, name)
		}
	}
}
