//go:build !race

package session

import (
	"testing"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// allocFrames are data messages in Bybit's shapes, one per kind.
var allocFrames = []struct {
	name, frame string
}{
	{"book_delta", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000123,"data":{"s":"BTCUSDT","b":[["65000.10","1.204"],["64999.90","0"]],"a":[["65000.20","3.917"],["65000.40","0.012"]],"u":1001,"seq":431890771234},"cts":1700000000120}`},
	{"book_snapshot", `{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000123,"data":{"s":"BTCUSDT","b":[["65000.10","1.204"]],"a":[["65000.20","3.917"]],"u":1,"seq":431890771234},"cts":1700000000120}`},
	{"trade", `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000123,"data":[{"T":1700000000121,"s":"BTCUSDT","S":"Buy","v":"0.020","p":"65000.10","L":"ZeroPlusTick","i":"2a74ac78-691c-5b54-9dbe-5aafe8364627","BT":false,"RPI":false,"seq":457514743450}]}`},
	{"ticker", `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"65000.10","bid1Size":"1.2"},"cs":176530004279,"ts":1700000000123}`},
	{"kline", `{"topic":"kline.1.BTCUSDT","data":[{"start":1700000000000,"end":1700000059999,"interval":"1","open":"65000","close":"65010.5","high":"65020","low":"64990","volume":"12.5","turnover":"812500.25","confirm":false,"timestamp":1700000000123}],"ts":1700000000123,"type":"snapshot"}`},
}

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
