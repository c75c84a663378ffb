package ringfeed

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// In park mode the readers apply for their parked processor (lend), and
// the state stays exact: three connections on one processor, so readers
// also apply each other's rings and contend for the processor with each
// other and with it, while queries (served on the processor goroutine
// only) run all along. Run under -race in make test: every hand-over of
// the processor's state between goroutines must be ordered.
func TestParkReadersLendAndStateStaysExact(t *testing.T) {
	rate, _ := bybitsim.ParseRate("4000")
	syms := []string{"BTCUSDT", "ETHUSDT", "XRPUSDT"}
	h := startHarness(t, bybitsim.Config{Seed: 12, Rate: rate}, Config{
		Symbols:        syms,
		Topics:         []string{"orderbook.50", "publicTrade"},
		SymbolsPerConn: 1,
		Processors:     1,
	})
	if len(h.e.conns) != 3 || len(h.e.procs) != 1 {
		t.Fatalf("%d connections on %d processors; want 3 on 1", len(h.e.conns), len(h.e.procs))
	}
	// Queries beside the feed, each answered by the processor goroutine.
	var served atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < 5000; i++ { // bounded; stops at the end of the test
			select {
			case <-stop:
				return
			default:
			}
			resp, err := h.client.Get(fmt.Sprintf("http://%s/v1/book/%s?stream=50", h.e.AdminAddr(), syms[i%len(syms)]))
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				served.Add(1)
			}
			time.Sleep(2 * time.Millisecond) // pacing only: nothing is counted against it
		}
	})
	waitFor(t, 30*time.Second, "500 messages lent and 20 queries served", func() bool {
		return h.e.Stats().Lent > 500 && served.Load() > 20
	})
	close(stop)
	wg.Wait()
	h.quiesce("linear", 50)
	h.compareBooks("linear", 50)
	st := h.e.Stats()
	if st.Lent > st.Messages {
		t.Errorf("lent %d of %d messages applied", st.Lent, st.Messages)
	}
	if n := histCount(h.metrics(), `ringfeed_messages_lent_total{category="linear"}`); n <= 0 {
		t.Errorf("ringfeed_messages_lent_total = %v; want > 0", n)
	}
}

// Where the work must stay on the processor goroutine, no reader applies
// for it: NoLend, a registered hook (hooks run on the processor
// goroutine), spin mode.
func TestProcessorWorkStaysOnProcessor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		setup func(*Engine)
		hooks *atomic.Int64
	}{
		{name: "NoLend", cfg: Config{NoLend: true}},
		{name: "hook", hooks: new(atomic.Int64)},
		{name: "spin", cfg: Config{Wait: ring.Spin, Processors: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.Wait == ring.Spin && runtime.GOMAXPROCS(0) < 2 {
				t.Skip("spin mode needs GOMAXPROCS ≥ 2")
			}
			var setup []func(*Engine)
			if tc.hooks != nil {
				n := tc.hooks
				setup = append(setup, func(e *Engine) { e.OnBook(func(BookRef) { n.Add(1) }) })
			}
			rate, _ := bybitsim.ParseRate("2000")
			cfg := tc.cfg
			cfg.Symbols = []string{"BTCUSDT", "ETHUSDT"}
			cfg.Topics = []string{"orderbook.50"}
			h := startHarness(t, bybitsim.Config{Seed: 13, Rate: rate}, cfg, setup...)
			waitFor(t, 30*time.Second, "500 messages", func() bool { return h.e.Stats().Messages > 500 })
			h.quiesce("linear", 50)
			h.compareBooks("linear", 50)
			if n := h.e.Stats().Lent; n != 0 {
				t.Errorf("%d messages applied by readers; want 0", n)
			}
			// Wired off, not merely unused (a spinner never parks, so
			// a lending reader would find nothing to do there anyway).
			for _, p := range h.e.procs {
				if p.lends {
					t.Errorf("processor %d lends", p.id)
				}
				for _, c := range p.conns {
					if c.sink.lender != nil {
						t.Errorf("connection %d's reader lends to processor %d", c.idx, p.id)
					}
				}
			}
			if tc.hooks != nil && tc.hooks.Load() == 0 {
				t.Error("the book hook never ran")
			}
		})
	}
}

// lend's bounds, driven step by step on a processor with one ring: a
// reader applies for the parked processor without waking it; with the
// budget spent, or more than lendSlots slots to apply (a large snapshot,
// or several readers' messages), it wakes the processor instead, which
// applies them while the reader reads on.
// lendRig is one processor with one ring, lending enabled and its loop
// running, driven by hand through the ring's sink.
type lendRig struct {
	c    *connection
	p    *processor
	id   uint32
	u    int64
	done chan struct{}
}

func newLendRig(tb testing.TB) *lendRig {
	tb.Helper()
	e, err := New(Config{Category: Linear, Symbols: []string{"AAAUSDT"}, Topics: []string{"orderbook.50"}, Admin: "off", Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	r := &lendRig{c: e.conns[0], p: e.conns[0].proc, done: make(chan struct{})}
	r.id, _ = e.syms.Lookup([]byte("AAAUSDT"))
	e.stateMu.Lock()
	e.running = true
	e.stateMu.Unlock()
	p := r.p
	p.prepare(true)
	go func() {
		defer close(r.done)
		p.run()
	}()
	return r
}

// commit sends one snapshot in slots slots (a bid level in each, an ask
// in the last), then the socket read's flush.
func (r *lendRig) commit(slots int) {
	r.u++
	for i := range slots {
		ev := r.c.sink.Next()
		*ev = parse.Event{Kind: parse.KindBook, Flags: parse.Snapshot, Sym: r.id, Depth: 50, U: r.u, Seq: r.u, RecvNs: wsconn.Nanotime(), NBids: 1}
		ev.Levels[0] = parse.Level{Price: int64(100 - i), Size: 1}
		if i == 0 {
			ev.Flags |= parse.First
		}
		if i == slots-1 {
			ev.Flags |= parse.Last
			ev.NAsks = 1
			ev.Levels[1] = parse.Level{Price: 101, Size: 1}
		}
	}
	r.c.sink.Commit()
	r.c.sink.Flush()
}

// stop closes the ring and waits for the processor to end.
func (r *lendRig) stop(tb testing.TB) {
	tb.Helper()
	r.c.ring.Close()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		tb.Fatal("processor did not stop within 10s of its ring closing")
	}
}

func TestLendBounds(t *testing.T) {
	r := newLendRig(t)
	p := r.p
	parkedAfter := func(events uint64) {
		t.Helper()
		waitFor(t, 10*time.Second, fmt.Sprintf("%d events applied and the processor parked", events), func() bool {
			return p.events.Load() == events && p.bell.Parked()
		})
	}
	parkedAfter(0)

	r.commit(1) // lent: applied before Flush returns, the processor still asleep
	if got := p.lent.Load(); got != 1 || p.events.Load() != 1 || !p.bell.Parked() {
		t.Fatalf("after one message: lent %d, applied %d, parked %v; want 1, 1, true", got, p.events.Load(), p.bell.Parked())
	}

	p.credit = -int64(time.Hour) // spent (only lend touches it; the processor is parked)
	r.commit(1)
	parkedAfter(2)
	if got := p.lent.Load(); got != 1 {
		t.Errorf("budget spent: lent %d in all; want still 1 (the processor applies it)", got)
	}

	p.credit = lendBurst
	r.commit(lendSlots + 1) // a large snapshot: the processor's, applied while the reader reads on
	parkedAfter(uint64(lendSlots) + 3)
	if got := p.lent.Load(); got != 1 {
		t.Errorf("a message of %d slots: lent %d in all; want still 1", lendSlots+1, got)
	}

	r.commit(1) // within bounds again
	if got := p.lent.Load(); got != 2 {
		t.Errorf("after the backlog: lent %d in all; want 2", got)
	}
	r.stop(t)
	if v := p.syms[r.id].books[0].b.Header().U; v != r.u {
		t.Errorf("book at u=%d; want the last message's %d", v, r.u)
	}
}

// BenchmarkLend is a reader's publish when its processor is parked: one
// book snapshot committed and flushed, which lend applies before Flush
// returns (the CAS, the drain, the apply, the flag dropped). The budget
// is topped up each round so every message is lent; a lend refused
// would show as a processor wake-up in the time and fail the count.
func BenchmarkLend(b *testing.B) {
	r := newLendRig(b)
	p := r.p
	waitFor(b, 10*time.Second, "the processor parked", p.bell.Parked)
	b.ReportAllocs()
	for b.Loop() {
		p.credit = lendBurst
		r.commit(1)
	}
	b.StopTimer()
	if n := p.lent.Load(); n != uint64(r.u) {
		b.Fatalf("lent %d of %d messages", n, r.u)
	}
	r.stop(b)
}
