package ringfeed

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// handoffRig is one processor with one symbol (orderbook.50, kline.1,
// tickers, publicTrade) fed hand-made events: a 50-level snapshot, then
// deltas that change four levels each with u stepping by one, trades,
// candles and tickers, so every publish path is exercised on a live book.
type handoffRig struct {
	e      *Engine
	p      *processor
	c      *connection
	delta  parse.Event
	trade  parse.Event
	kline  parse.Event
	tick   parse.Event
	i      int
	inline bool // drain the publisher's ring after each message, on this goroutine
	done   chan struct{}
}

func newHandoffRig(tb testing.TB, slots int, inline bool) *handoffRig {
	tb.Helper()
	e, err := New(Config{Category: Linear, Symbols: []string{"BTCUSDT"},
		Topics: []string{"orderbook.50", "kline.1", "tickers", "publicTrade"}, Admin: "off", Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	r := &handoffRig{e: e, c: e.conns[0], p: e.conns[0].proc}
	id, _ := e.syms.Lookup([]byte("BTCUSDT"))
	if slots > 0 {
		r.p.pub = newPubOut(slots, time.Hour, metrics.NewSet().NewCounter("drops"))
		r.inline = inline
		if !inline {
			r.done = make(chan struct{})
			go r.drain()
		}
	}
	// The snapshot: 25 bids and 25 asks per slot, two slots.
	for part := range 2 {
		ev := parse.Event{Kind: parse.KindBook, Depth: 50, Sym: id, U: 100, Seq: 1000, TS: 1, RecvNs: wsconn.Nanotime(),
			Flags: parse.Snapshot, NBids: 16, NAsks: 16}
		if part == 0 {
			ev.Flags |= parse.First
		} else {
			ev.Flags |= parse.Last
			ev.NBids, ev.NAsks = 9, 9
		}
		for j := range int(ev.NBids) {
			lvl := part*16 + j
			ev.Levels[j] = parse.Level{Price: (65000 - int64(lvl)) * 1e8, Size: 1e8}
			ev.Levels[int(ev.NBids)+j] = parse.Level{Price: (65001 + int64(lvl)) * 1e8, Size: 1e8}
		}
		r.p.apply(r.c, &ev)
	}
	r.delta = parse.Event{Kind: parse.KindBook, Depth: 50, Sym: id, U: 100, Seq: 1000, TS: 1,
		Flags: parse.First | parse.Last, NBids: 2, NAsks: 2}
	r.trade = parse.Event{Kind: parse.KindTrade, Sym: id, Flags: parse.First | parse.Last, TS: 1}
	r.trade.Trade = parse.Trade{Time: 1, Price: 65000e8, Size: 1e6, Side: parse.Buy, IDLen: 8}
	r.kline = parse.Event{Kind: parse.KindKline, Sym: id, Interval: parse.Interval1, Flags: parse.First | parse.Last, TS: 1}
	r.kline.Candle = parse.Candle{Start: 0, End: 59999, Open: 65000e8, High: 65001e8, Low: 64999e8, Close: 65000e8, Volume: 1e8, Turnover: 65000e8}
	r.tick = parse.Event{Kind: parse.KindTicker, Sym: id, Flags: parse.First | parse.Last, TS: 1}
	r.tick.Ticker.Present = 1<<parse.TickLastPrice | 1<<parse.TickMarkPrice
	r.tick.Ticker.Values[parse.TickLastPrice] = 65000e8
	if b := e.bySym[id].books[0].b; b.Stale() || b.Len(0) != 25 {
		tb.Fatalf("rig book: stale %v, %d bids; want a live 25-level side", b.Stale(), b.Len(0))
	}
	return r
}

// drain stands in for the publisher's worker: it takes slots as they
// come and, like the worker, sleeps briefly when there are none and parks
// on the ring after a millisecond without any.
func (r *handoffRig) drain() {
	defer close(r.done)
	pr := r.p.pub.r
	idle := time.Duration(0)
	for {
		b := pr.Peek()
		if len(b) == 0 {
			if pr.Closed() {
				return
			}
			if idle < time.Millisecond {
				time.Sleep(50 * time.Microsecond)
				idle += 50 * time.Microsecond
				continue
			}
			var err error
			if b, err = pr.PeekWait(); err != nil {
				continue
			}
		}
		idle = 0
		pr.Release(len(b))
	}
}

func (r *handoffRig) close() {
	if r.p.pub != nil && r.done != nil {
		r.p.pub.r.Close()
		<-r.done
	}
}

// step applies the next message: 7 book deltas in 10, then a trade, a
// candle and a ticker.
func (r *handoffRig) step() {
	r.i++
	switch r.i % 10 {
	case 7:
		r.trade.Seq = int64(r.i)
		r.trade.Trade.IDBuf[0] = byte(r.i)
		r.trade.Trade.IDBuf[1] = byte(r.i >> 8)
		r.trade.RecvNs = wsconn.Nanotime()
		r.p.apply(r.c, &r.trade)
	case 8:
		r.kline.RecvNs = wsconn.Nanotime()
		r.p.apply(r.c, &r.kline)
	case 9:
		r.tick.RecvNs = wsconn.Nanotime()
		r.p.apply(r.c, &r.tick)
	default:
		ev := &r.delta
		ev.U++
		ev.Seq++
		ev.RecvNs = wsconn.Nanotime()
		k := int64(r.i % 20)
		sz := int64(1+r.i%3) * 1e8
		ev.Levels[0] = parse.Level{Price: (65000 - k) * 1e8, Size: sz}
		ev.Levels[1] = parse.Level{Price: (65000 - k - 1) * 1e8, Size: sz + 1}
		ev.Levels[2] = parse.Level{Price: (65001 + k) * 1e8, Size: sz}
		ev.Levels[3] = parse.Level{Price: (65001 + k + 1) * 1e8, Size: sz + 1}
		r.p.apply(r.c, ev)
	}
	if r.inline {
		pr := r.p.pub.r
		for b := pr.Peek(); len(b) > 0; b = pr.Peek() {
			pr.Release(len(b))
		}
	}
}

// BenchmarkPublishHandoff is the processor's cost per message with the
// NATS hand-off off and on (target: on − off ≤ 0.2 µs, 0 allocs), for
// several ring sizes: a slot is about 1.2 KiB, so a big ring stops fitting
// the cache and each slot written costs a miss. The ring is drained by a
// goroutine that sleeps when idle, as the publisher's workers do; at this
// synthetic rate (millions of messages a second) a sleeping drainer wakes
// too late at times, and the drops say how often. on/inline drains on the
// processor's goroutine after each message: the copy and ring cost alone,
// without another goroutine contending for the cache lines. cpu-ns/op is
// the processor thread's CPU time per message, which time spent
// descheduled on a shared machine does not inflate; compare on/inline
// with off there.
func BenchmarkPublishHandoff(b *testing.B) {
	for _, v := range []struct {
		slots  int
		inline bool
	}{{0, false}, {8192, true}, {1024, false}, {2048, false}, {8192, false}} {
		slots := v.slots
		name := "off"
		switch {
		case v.inline:
			name = "on/inline"
		case slots > 0:
			name = "on/slots=" + strconv.Itoa(slots)
		}
		b.Run(name, func(b *testing.B) {
			r := newHandoffRig(b, slots, v.inline)
			defer r.close()
			b.ReportAllocs()
			runtime.LockOSThread()
			cpu0 := threadCPU()
			for b.Loop() {
				r.step()
			}
			cpu := threadCPU() - cpu0
			runtime.UnlockOSThread()
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			if slots > 0 {
				b.ReportMetric(float64(r.p.pub.drops.Get())/float64(b.N), "drops/op")
			}
		})
	}
}

// threadCPU returns the CPU time the calling OS thread has used
// (getrusage RUSAGE_THREAD, Linux).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
