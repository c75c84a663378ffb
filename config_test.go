package ringfeed

import (
	"errors"
	"github.com/ringfeed/ringfeed/parse"
	"strings"
	"testing"
	"time"
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
		if !strings.Contains(err.Error(), "--"+field) {
			t.Errorf("message %q does not name --%s", err, field)
		}
	}
	f("category", func(c *Config) { c.Category = "" })
	f("category", func(c *Config) { c.Category = "futures" })
	f("symbols", func(c *Config) { c.Symbols = nil })
	f("symbols", func(c *Config) { c.Symbols = []string{"btcusdt"} })
	f("symbols", func(c *Config) { c.Symbols = []string{"BTCUSDT", "BTCUSDT"} })
	f("symbols", func(c *Config) { c.Symbols = []string{"BTC\x00"} })
	f("topics", func(c *Config) { c.Topics = nil })
	f("topics", func(c *Config) { c.Topics = []string{"orderbook.500"} })
	f("topics", func(c *Config) { c.Topics = []string{"orderbook.x"} })
	f("topics", func(c *Config) { c.Topics = []string{"kline.2"} })
	f("topics", func(c *Config) { c.Topics = []string{"tickers.BTCUSDT"} })
	f("topics", func(c *Config) { c.Topics = []string{"liquidation"} })
	f("topics", func(c *Config) { c.Category, c.Topics = Option, []string{"kline.1"} })
	f("topics", func(c *Config) { c.Category, c.Topics = Option, []string{"orderbook.50"} })
	f("topics", func(c *Config) { c.Topics = []string{"tickers", "tickers"} })
	f("connect-limit", func(c *Config) { c.ConnectLimit = 501 })
	f("connect-limit", func(c *Config) { c.ConnectLimit = 1 })
	f("connect-limit", func(c *Config) { c.ConnectLimit = -1 })
	f("ws-url", func(c *Config) { c.WSURL = "http://stream.bybit.com" })
	f("ws-url", func(c *Config) { c.WSURL = "ws://" })
	f("rest-url", func(c *Config) { c.RESTURL = "ftp://x" })
	f("admin", func(c *Config) { c.Admin = "9100" })
	f("processors", func(c *Config) { c.Processors = -1 })
	f("cpus", func(c *Config) { c.CPUs = []int{4096} })
	f("ring-size", func(c *Config) { c.RingSize = 1000 })
	f("ring-size", func(c *Config) { c.RingSize = 32 })
	f("symbols-per-conn", func(c *Config) { c.SymbolsPerConn = -3 })
	f("max-message", func(c *Config) { c.MaxMessageSize = 100 })
	f("ping-interval", func(c *Config) { c.PingInterval = -time.Second })
	f("backoff-cap", func(c *Config) { c.BackoffBase, c.BackoffCap = time.Second, time.Millisecond })
	f("idle-timeout", func(c *Config) { c.IdleTimeout, c.PingInterval = 10*time.Second, 20*time.Second })
	f("probe-timeout", func(c *Config) { c.ProbeConnectTimeout, c.ProbeTimeout = 5*time.Second, time.Second })
	f("kline-window", func(c *Config) { c.KlineWindow = -1 })
	f("trade-tape", func(c *Config) { c.TradeTape = 2000000 })
}

func TestConfigDefaults(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.WSURL != MainnetWS+"linear" || c.RESTURL != MainnetREST {
		t.Errorf("got %s %s; want Bybit mainnet", c.WSURL, c.RESTURL)
	}
	if c.Admin != DefaultAdmin || c.RingSize != DefaultRingSize || c.PingInterval != DefaultPingInterval || c.Processors < 1 {
		t.Errorf("defaults not filled: %+v", c)
	}
	c = validConfig()
	c.WSURL, c.RESTURL = "testnet", "testnet"
	if err := c.Validate(); err != nil || c.WSURL != TestnetWS+"linear" || c.RESTURL != TestnetREST {
		t.Errorf("testnet by name: %v %s %s", err, c.WSURL, c.RESTURL)
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
	for _, k := range []parse.Kind{kindDropped, kindReset} {
		if name := k.String(); !strings.HasPrefix(name, "kind(") {
			t.Errorf("marker kind %d is the parser's kind %q", k, name)
		}
	}
}
