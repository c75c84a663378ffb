package session

import (
	"testing"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// BenchmarkHandle measures the reader's per-message step: parse into a real
// ring through the Sink, commit, flush, count, stamp the topic's last-seen
// time. The parse_only baseline is the same frame through parse.Parser into
// the same ring with nothing else, so the ratio is the session's overhead.
func BenchmarkHandle(b *testing.B) {
	syms := testSymbols(b, "BTCUSDT")
	sink := newRingSink(1 << 10)
	s, err := New(Config{
		Category: "linear",
		URL:      "ws://127.0.0.1:1/v5/public/linear",
		Topics:   []string{"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT"},
		Symbols:  syms,
		Sink:     sink,
	})
	if err != nil {
		b.Fatal(err)
	}
	p := parse.NewParser(syms)
	for _, f := range allocFrames {
		frame := []byte(f.frame)
		b.Run(f.name+"/session", func(b *testing.B) {
			m := wsconn.Message{Op: wsconn.OpText, Payload: frame, RecvNs: 1}
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				s.rd.handle(m)
				s.rd.flush()
				sink.r.Release(len(sink.r.Peek()))
			}
		})
		b.Run(f.name+"/parse_only", func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Parse(frame, 1, sink); err != nil {
					b.Fatal(err)
				}
				sink.cur = 0
				sink.r.Publish()
				sink.r.Release(len(sink.r.Peek()))
			}
		})
	}
}

// BenchmarkResync is the processor's side of a resync request: a flag and
// a non-blocking nudge. The channel baseline is what a plain buffered
// channel send and receive of the topic index costs.
func BenchmarkResync(b *testing.B) {
	s, err := New(Config{
		Category: "linear",
		URL:      "ws://127.0.0.1:1/v5/public/linear",
		Topics:   []string{"orderbook.50.BTCUSDT"},
		Symbols:  testSymbols(b, "BTCUSDT"),
		Sink:     newRingSink(8),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("session", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Resync("orderbook.50.BTCUSDT")
			s.resyncFlag[0].Store(false) // what the control goroutine does
			select {
			case <-s.resyncCh:
			default:
			}
		}
	})
	b.Run("channel", func(b *testing.B) {
		ch := make(chan int, 1)
		b.ReportAllocs()
		for b.Loop() {
			ch <- 0
			<-ch
		}
	})
}
