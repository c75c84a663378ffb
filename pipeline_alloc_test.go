//go:build !race

package ringfeed

import (
	"runtime"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// The whole per-message path of one connection — parse into the ring,
// publish, drain, apply to books, windows, tickers and tapes, record the
// latency — runs without allocating. The frames are real simulator frames
// captured once, so every message kind is covered.
func TestPipelineAllocs(t *testing.T) {
	rate, _ := bybitsim.ParseRate("3000")
	h := startHarness(t, bybitsim.Config{Seed: 5, Rate: rate, TimeScale: 60},
		Config{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Topics: []string{"orderbook.50", "orderbook.1", "kline.1", "tickers", "publicTrade"},
			Record: t.TempDir() + "/a.cap"})
	waitFor(t, 15*time.Second, "1500 messages", func() bool { return h.e.Stats().Messages > 1500 })
	h.stop()
	frames := readCaptureFile(t, h.e.cfg.Record)

	e, err := New(Config{Category: Linear, Symbols: h.e.cfg.Symbols, Topics: h.e.cfg.Topics, Admin: "off", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// Hooks of every kind, two for books, reading through their refs:
	// a hook that does not allocate itself costs no allocation.
	var sink Decimal
	var hooked int
	e.OnBook(func(b BookRef) { l, _ := b.BestBid(); sink = l.Price; hooked++ })
	e.OnBook(func(b BookRef) { var top [4]Level; hooked += b.Levels(book.Ask, top[:]) })
	e.OnKline(func(k KlineRef) { c, _ := k.Newest(); sink = c.Close })
	e.OnTicker(func(tk TickerRef) { v, _ := tk.Get(parse.TickLastPrice); sink = v.Value })
	e.OnTrade(func(tr TradeRef) { sink = tr.Price(); hooked += len(tr.ID()) })
	c := e.conns[0]
	p := c.proc
	parser := parse.NewParser(e.syms)
	step := func(f []byte) {
		res, err := parser.Parse(f, wsconn.Nanotime(), c.sink)
		if err != nil {
			c.sink.Abort(res, err)
		} else {
			c.sink.Commit()
		}
		c.sink.Flush()
		for {
			b := c.ring.Peek()
			if len(b) == 0 {
				break
			}
			for i := range b {
				p.apply(c, &b[i])
			}
			c.ring.Release(len(b))
		}
	}
	// Warm up: every book, window and tape reaches its steady size.
	for _, f := range frames {
		step(f.Data)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(frames), func() {
		step(frames[i%len(frames)].Data)
		i++
	})
	if allocs != 0 {
		t.Errorf("got %v allocs per message; want 0", allocs)
	}
	if hooked == 0 || sink.IsZero() {
		t.Errorf("hooks did not run (%d calls, last value %v)", hooked, sink)
	}

	// And across the live engine, process-wide. The bound is 0.05 mallocs
	// per message: periodic work (the reporter every 2 s, pings, the
	// simulator's timers) allocates a fixed amount per second, which at
	// 5000 msgs/s must stay under 250 a second; one allocation per message
	// anywhere on the path would read ≥ 1.
	rate2, _ := bybitsim.ParseRate("5000")
	h2 := startHarness(t, bybitsim.Config{Seed: 6, Rate: rate2}, Config{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Topics: []string{"orderbook.50", "publicTrade"}, Admin: "off"})
	waitFor(t, 15*time.Second, "warm-up", func() bool { return h2.e.Stats().Messages > 5000 })
	var m0, m1 runtime.MemStats
	n0 := h2.e.Stats().Messages
	runtime.ReadMemStats(&m0)
	time.Sleep(time.Second)
	runtime.ReadMemStats(&m1)
	n1 := h2.e.Stats().Messages
	per := float64(m1.Mallocs-m0.Mallocs) / float64(max(1, n1-n0))
	t.Logf("process-wide: %d mallocs over %d messages (%.3f per message, simulator included)", m1.Mallocs-m0.Mallocs, n1-n0, per)
	if per > 0.05 {
		t.Errorf("process-wide mallocs per message: got %.3f; want < 0.05", per)
	}
}
