//go:build !race

package session

import (
	"testing"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// TestHandleAlloc gates the reader's per-message step (read → parse → sink →
// last-seen) at zero allocations for every data kind, through a real ring.
func TestHandleAlloc(t *testing.T) {
	syms := testSymbols(t, "BTCUSDT")
	sink := newRingSink(64)
	s, err := New(Config{
		Category: "linear",
		URL:      "ws://127.0.0.1:1/v5/public/linear",
		Topics:   []string{"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT"},
		Symbols:  syms,
		Sink:     sink,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range allocFrames {
		t.Run(f.name, func(t *testing.T) {
			m := wsconn.Message{Op: wsconn.OpText, Payload: []byte(f.frame), RecvNs: 42}
			step := func() {
				s.rd.handle(m)
				s.rd.flush()
				n := len(sink.r.Peek())
				sink.r.Release(n)
			}
			step() // warm the parser's caches
			if got := sink.commits.Load(); got == 0 {
				t.Fatalf("got %d commits after a %s frame; want > 0 (aborts %d)", got, f.name, sink.aborts.Load())
			}
			if got := testing.AllocsPerRun(200, step); got != 0 {
				t.Errorf("got %v allocs per message; want 0", got)
			}
		})
	}
	if got := s.Stats().ParseErrors; got != 0 {
		t.Errorf("got %d parse errors; want 0", got)
	}
}

// TestTopicIndexAlloc: the engine calls TopicIndex and Resync from its
// processors; neither may allocate.
func TestTopicIndexAlloc(t *testing.T) {
	syms := testSymbols(t, "BTCUSDT", "ETHUSDT")
	s, err := New(Config{
		Category: "linear",
		URL:      "ws://127.0.0.1:1/v5/public/linear",
		Topics:   []string{"orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT", "orderbook.1.ETHUSDT"},
		Symbols:  syms,
		Sink:     newRingSink(8),
	})
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := syms.Lookup([]byte("ETHUSDT"))
	got := testing.AllocsPerRun(100, func() {
		i, ok := s.TopicIndex(parse.KindBook, eth, 1)
		if !ok || i != 2 {
			t.Fatalf("got %d, %v; want 2, true", i, ok)
		}
		s.Resync("orderbook.1.ETHUSDT")
		s.resyncFlag[2].Store(false)
	})
	if got != 0 {
		t.Errorf("got %v allocs; want 0", got)
	}
}
