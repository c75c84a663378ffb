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
// latency — runs without allocating, on the processor or lent to a reader. The frames are real simulator frames
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

	// And across the live engine, process-wide. Periodic work (the
	// reporter every 2 s, pings, the simulator's timers) allocates a fixed
	// amount per second, budgeted at 250 a second of the measured window;
	// on top of that the path may allocate 0.02 per message. One
	// allocation per message anywhere on the path would read ≥ 1 per
	// message, far over. The budget follows the window's real length, so
	// a busy machine (fewer messages a second) cannot fail it.
	rate2, _ := bybitsim.ParseRate("5000")
	h2 := startHarness(t, bybitsim.Config{Seed: 6, Rate: rate2}, Config{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Topics: []string{"orderbook.50", "publicTrade"}, Admin: "off"})
	waitFor(t, 15*time.Second, "warm-up", func() bool { return h2.e.Stats().Messages > 5000 })
	var m0, m1 runtime.MemStats
	n0 := h2.e.Stats().Messages
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	// A window of 5000 messages (a second at the simulator's rate),
	// polled slowly so the polling's own allocations stay small.
	for h2.e.Stats().Messages < n0+5000 {
		if time.Since(t0) > 30*time.Second {
			t.Fatalf("5000 messages did not arrive within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	runtime.ReadMemStats(&m1)
	elapsed := time.Since(t0)
	n1 := h2.e.Stats().Messages
	allocs, n := float64(m1.Mallocs-m0.Mallocs), float64(max(1, n1-n0))
	limit := 250*elapsed.Seconds() + 0.02*n
	t.Logf("process-wide: %.0f mallocs over %.0f messages in %v (%.3f per message, simulator included); budget %.0f", allocs, n, elapsed, allocs/n, limit)
	if allocs > limit {
		t.Errorf("process-wide mallocs: got %.0f over %.0f messages in %v; want <= %.0f", allocs, n, elapsed, limit)
	}
	// Park mode without hooks: the readers applied for the parked
	// processor (lend), so that path is inside the budget too.
	if h2.e.Stats().Lent == 0 {
		t.Error("no message was applied by a reader: the window did not cover lending")
	}
}

// A message a reader applies for its parked processor (lend) allocates
// nothing: the publish, the flag, the drain and the apply.
func TestLendAllocs(t *testing.T) {
	r := newLendRig(t)
	p := r.p
	waitFor(t, 10*time.Second, "the processor parked", p.bell.Parked)
	r.commit(1) // the book's first snapshot sizes it
	allocs := testing.AllocsPerRun(1000, func() {
		p.credit = lendBurst
		r.commit(1)
	})
	if n := p.lent.Load(); n != uint64(r.u) {
		t.Fatalf("lent %d of %d messages: the runs did not all lend", n, r.u)
	}
	if allocs != 0 {
		t.Errorf("got %v allocs per lent message; want 0", allocs)
	}
	r.stop(t)
}
