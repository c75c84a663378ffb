package bybitsim

import (
	"bufio"
	"net"
	"testing"
)

// fakeConn registers a connection with no reader or writer goroutine:
// tests and benchmarks call the generator directly and empty its queue
// with takeQueue, measuring the server side alone.
func fakeConn(tb testing.TB, s *Server, category string) *conn {
	tb.Helper()
	cat, ok := parseCategory(category)
	if !ok {
		tb.Fatalf("category %q", category)
	}
	a, b := net.Pipe()
	c := s.register(cat, a, bufio.NewReader(a))
	if c == nil {
		tb.Fatalf("register on a closed server")
	}
	tb.Cleanup(func() {
		s.mu.Lock()
		s.unregister(c)
		s.mu.Unlock()
		s.wg.Done()
		_ = a.Close()
		_ = b.Close()
	})
	return c
}

// takeQueue empties c's queue and returns its bytes (valid until the next
// generator step).
func takeQueue(c *conn) []byte {
	c.mu.Lock()
	q := c.q
	c.q = c.q[:0]
	c.mu.Unlock()
	return q
}

func fakeSubscribe(tb testing.TB, s *Server, c *conn, topics ...string) {
	tb.Helper()
	s.subscribe(c, topics, "", false, false)
	takeQueue(c)
	if len(c.subs) != len(topics) {
		tb.Fatalf("subscribed %d of %v", len(c.subs), topics)
	}
}

// workload is a benchmark/alloc-test subscription set.
var workloads = []struct {
	name, cat string
	topics    []string
}{
	{"book50", "linear", []string{"orderbook.50.BTCUSDT"}},
	{"book1000", "linear", []string{"orderbook.1000.BTCUSDT"}},
	{"mixed", "linear", []string{
		"orderbook.1.BTCUSDT", "orderbook.50.BTCUSDT", "orderbook.200.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT",
		"orderbook.1.ETHUSDT", "orderbook.50.ETHUSDT", "publicTrade.ETHUSDT", "tickers.ETHUSDT",
		"orderbook.50.XRPUSDT", "publicTrade.XRPUSDT",
	}},
	{"spot", "spot", []string{"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT"}},
	{"option", "option", []string{"orderbook.25.BTC-27DEC30-80000-C", "orderbook.100.BTC-27DEC30-60000-P", "publicTrade.BTC", "tickers.BTC-27DEC30-80000-C"}},
}
