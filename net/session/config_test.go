package session

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/parse"
)

func validConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		Category: "linear",
		URL:      "ws://127.0.0.1:1/v5/public/linear",
		Topics:   []string{"orderbook.50.BTCUSDT"},
		Symbols:  testSymbols(t, "BTCUSDT", "BTC-27DEC30-80000-C"),
		Sink:     newRingSink(8),
	}
}

func TestNewRejects(t *testing.T) {
	f := func(name string, edit func(c *Config), want string) {
		t.Helper()
		c := validConfig(t)
		edit(&c)
		_, err := New(c)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got error %v; want one containing %q", name, err, want)
		}
	}
	f("category", func(c *Config) { c.Category = "futures" }, "Config.Category")
	f("url", func(c *Config) { c.URL = "http://x" }, "Config.URL")
	f("no topics", func(c *Config) { c.Topics = nil }, "Config.Topics")
	f("no symbols", func(c *Config) { c.Symbols = nil }, "Config.Symbols")
	f("no sink", func(c *Config) { c.Sink = nil }, "Config.Sink")
	f("bad topic", func(c *Config) { c.Topics = []string{"orderbook.x.BTCUSDT"} }, "orderbook.x.BTCUSDT")
	f("quote in topic", func(c *Config) { c.Topics = []string{`tickers.BTC"USDT`} }, "not allowed")
	f("unknown symbol", func(c *Config) { c.Topics = []string{"tickers.ETHUSDT"} }, "not registered")
	f("duplicate", func(c *Config) { c.Topics = []string{"tickers.BTCUSDT", "tickers.BTCUSDT"} }, "twice")
	f("option base without symbols", func(c *Config) {
		c.Category = "option"
		c.Topics = []string{"publicTrade.ETH"}
	}, "base coin")
	f("spot args", func(c *Config) {
		c.Category = "spot"
		c.ArgsPerRequest = 11
	}, "ArgsPerRequest")
	f("negative ping", func(c *Config) { c.PingInterval = -1 }, "PingInterval")
	f("cap below base", func(c *Config) { c.BackoffBase, c.BackoffCap = time.Second, time.Millisecond }, "BackoffCap")
	f("idle below ping", func(c *Config) { c.PingInterval = time.Minute }, "IdleTimeout")
	f("labels", func(c *Config) { c.Labels = `conn=0` }, "Config.Labels")
	f("args chars", func(c *Config) {
		syms := parse.NewSymbols()
		c.Symbols = syms
		c.Topics = nil
		for i := range 1000 {
			name := fmt.Sprintf("SYMBOL%04dUSDT", i)
			syms.Add(name, 8, 8)
			c.Topics = append(c.Topics, "orderbook.50."+name)
		}
	}, "21000")
	set := metrics.NewSet()
	c := validConfig(t)
	c.Metrics, c.Labels = set, `conn="0"`
	if _, err := New(c); err != nil {
		t.Fatalf("first New: %v", err)
	}
	f("labels reused", func(c *Config) { c.Metrics, c.Labels = set, `conn="0"` }, "already registered")
}

func TestNewDefaults(t *testing.T) {
	s, err := New(validConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c := s.cfg
	for _, d := range []struct {
		name      string
		got, want any
	}{
		{"PingInterval", c.PingInterval, DefaultPingInterval},
		{"PongTimeout", c.PongTimeout, DefaultPongTimeout},
		{"IdleTimeout", c.Dial.IdleTimeout, DefaultIdleTimeout},
		{"BackoffBase", c.BackoffBase, DefaultBackoffBase},
		{"BackoffCap", c.BackoffCap, DefaultBackoffCap},
		{"ArgsPerRequest", c.ArgsPerRequest, DefaultArgsPerRequest},
		{"ResyncInterval", c.ResyncInterval, DefaultResyncInterval},
		{"Limiter", c.Limiter, DefaultLimiter},
	} {
		if d.got != d.want {
			t.Errorf("%s: got %v; want %v", d.name, d.got, d.want)
		}
	}
}

func TestDefaultSilence(t *testing.T) {
	f := func(topic string, want time.Duration) {
		t.Helper()
		if got := DefaultSilence(topic); got != want {
			t.Errorf("DefaultSilence(%q): got %v; want %v", topic, got, want)
		}
	}
	f("orderbook.1.BTCUSDT", 10*time.Second)
	f("orderbook.50.BTCUSDT", 30*time.Second)
	f("orderbook.1000.BTCUSDT", 30*time.Second)
	f("tickers.BTCUSDT", 60*time.Second)
	f("kline.1.BTCUSDT", 150*time.Second)
	f("publicTrade.BTCUSDT", 0)
}

func TestTopicIndex(t *testing.T) {
	syms := testSymbols(t, "BTC-27DEC30-80000-C", "BTC-27DEC30-60000-P", "ETH-27DEC30-4000-C")
	s, err := New(Config{
		Category: "option",
		URL:      "ws://127.0.0.1:1/v5/public/option",
		Topics:   []string{"orderbook.25.BTC-27DEC30-80000-C", "publicTrade.BTC", "tickers.ETH-27DEC30-4000-C", "orderbook.100.BTC-27DEC30-80000-C"},
		Symbols:  syms,
		Sink:     newRingSink(8),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := func(n string) uint32 { i, _ := syms.Lookup([]byte(n)); return i }
	f := func(kind parse.Kind, sym uint32, param int, want int) {
		t.Helper()
		got, ok := s.TopicIndex(kind, sym, param)
		if got != want || ok != (want >= 0) {
			t.Errorf("TopicIndex(%v, %d, %d): got %d, %v; want %d", kind, sym, param, got, ok, want)
		}
	}
	f(parse.KindBook, id("BTC-27DEC30-80000-C"), 25, 0)
	f(parse.KindBook, id("BTC-27DEC30-80000-C"), 100, 3)
	f(parse.KindBook, id("BTC-27DEC30-80000-C"), 50, -1)
	f(parse.KindBook, id("BTC-27DEC30-60000-P"), 25, -1)
	f(parse.KindTrade, id("BTC-27DEC30-80000-C"), 0, 1)
	f(parse.KindTrade, id("BTC-27DEC30-60000-P"), 0, 1)
	f(parse.KindTrade, id("ETH-27DEC30-4000-C"), 0, -1)
	f(parse.KindTicker, id("ETH-27DEC30-4000-C"), 0, 2)
	f(parse.KindKline, id("ETH-27DEC30-4000-C"), 1, -1)
	f(parse.KindBook, 99, 25, -1)
	f(parse.Kind(200), 0, 0, -1)
	if i, ok := s.TopicIndexOf("publicTrade.BTC"); !ok || i != 1 {
		t.Errorf("TopicIndexOf: got %d, %v; want 1, true", i, ok)
	}
	if got := s.Topic(3); got != "orderbook.100.BTC-27DEC30-80000-C" {
		t.Errorf("Topic(3): got %q", got)
	}
	if got := s.NumTopics(); got != 4 {
		t.Errorf("NumTopics: got %d; want 4", got)
	}
	if !s.Resync("publicTrade.BTC") || s.Resync("publicTrade.BTC") {
		t.Error("Resync: want true then false while pending")
	}
	if s.Resync("publicTrade.ETH") || s.ResyncIndex(-1) || s.ResyncIndex(4) {
		t.Error("Resync of an unknown topic: got true; want false")
	}
}

func TestBackoff(t *testing.T) {
	base, cap := 100*time.Millisecond, time.Second
	for n := range 80 {
		limit := cap
		if n < 4 {
			limit = base << n
		}
		for range 50 {
			if d := backoff(base, cap, n); d < 0 || d >= limit {
				t.Fatalf("backoff(%d): got %v; want [0, %v)", n, d, limit)
			}
		}
	}
	// Full jitter: the draws spread over the whole window.
	var lo, hi bool
	for range 1000 {
		d := backoff(base, cap, 10)
		lo = lo || d < cap/4
		hi = hi || d > cap*3/4
	}
	if !lo || !hi {
		t.Errorf("backoff draws did not cover [0, cap): low %v high %v", lo, hi)
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Hour)
	now := time.Now()
	for i := range 3 {
		if d := l.reserve(now); d != 0 {
			t.Fatalf("token %d: got wait %v; want 0 within the burst", i, d)
		}
	}
	if d := l.reserve(now); d != time.Hour {
		t.Fatalf("token 4: got wait %v; want 1h", d)
	}
	if d := l.reserve(now.Add(30 * time.Minute)); d != 90*time.Minute {
		t.Fatalf("token 5: got wait %v; want 1h30m", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("Wait on an empty bucket: got nil; want the context's error")
	}
	for _, bad := range []func(){func() { NewLimiter(0, time.Second) }, func() { NewLimiter(1, 0) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("NewLimiter with a bad argument did not panic")
				}
			}()
			bad()
		}()
	}
}

func TestParseReqNum(t *testing.T) {
	f := func(in, prefix string, want int64, wantOK bool) {
		t.Helper()
		got, ok := parseReqNum([]byte(in), prefix)
		if got != want || ok != wantOK {
			t.Errorf("parseReqNum(%q, %q): got %d, %v; want %d, %v", in, prefix, got, ok, want, wantOK)
		}
	}
	f("s-17", "s-", 17, true)
	f("hb-0", "hb-", 0, true)
	f("s-", "s-", 0, false)
	f("u-17", "s-", 0, false)
	f("s-1x", "s-", 0, false)
	f("4000001", "s-", 0, false)
	f("", "s-", 0, false)
	f("s-1234567890123456789", "s-", 0, false)
}

// TestWindowLimiterBound drives limiters on a fake clock with a client that
// takes every token as soon as it is granted: no window of the limiter's
// length ever holds more than n grants, the first n/2 come at once, and
// the long-run rate is what the window allows.
func TestWindowLimiterBound(t *testing.T) {
	f := func(n int, window time.Duration) {
		t.Helper()
		l := NewWindowLimiter(n, window)
		t0 := time.Unix(1_700_000_000, 0)
		now := t0
		var grants []time.Time
		for range 4 * n {
			now = now.Add(l.reserve(now))
			grants = append(grants, now)
		}
		if burst := grants[n/2-1]; !burst.Equal(t0) {
			t.Errorf("n=%d: grant %d at +%v; want the first n/2 at once", n, n/2, burst.Sub(t0))
		}
		j := 0
		for i, g := range grants {
			for j < len(grants) && grants[j].Before(g.Add(window)) {
				j++
			}
			if got := j - i; got > n {
				t.Fatalf("n=%d: %d grants in the window from +%v; want <= %d", n, got, g.Sub(t0), n)
			}
		}
		// 4n tokens: n/2 at once, the rest at n - n/2 per window.
		if end, want := grants[len(grants)-1].Sub(t0), window*time.Duration(4*n-n/2)/time.Duration(n-n/2); end > want || end < want-window/time.Duration(n-n/2) {
			t.Errorf("n=%d: last of %d grants at +%v; want about +%v", n, 4*n, end, want)
		}
	}
	f(2, time.Minute)
	f(3, time.Minute)
	f(10, time.Minute)
	f(DefaultConnects, ConnectWindow)
	f(MaxConnects, ConnectWindow)
	for _, bad := range []func(){func() { NewWindowLimiter(1, time.Minute) }, func() { NewWindowLimiter(10, 0) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("NewWindowLimiter with a bad argument did not panic")
				}
			}()
			bad()
		}()
	}
}

// TestDefaultLimiterStartsManyConnections: 100 connections (5,000 symbols
// at 50 per connection) start at once, and 100 more after a mass
// disconnect; the default stays within Bybit's 500 per 5 minutes.
func TestDefaultLimiterStartsManyConnections(t *testing.T) {
	l := NewWindowLimiter(DefaultConnects, ConnectWindow) // a fresh DefaultLimiter
	now := time.Unix(1_700_000_000, 0)
	for i := range 200 {
		if d := l.reserve(now); d != 0 {
			t.Fatalf("connection %d of 200 at once: got wait %v; want 0", i+1, d)
		}
		if i == 99 {
			now = now.Add(10 * time.Second) // the mass disconnect
		}
	}
	if DefaultConnects > MaxConnects {
		t.Fatalf("DefaultConnects %d exceeds Bybit's %d", DefaultConnects, MaxConnects)
	}
}
