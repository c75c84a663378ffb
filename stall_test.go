package ringfeed

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/session"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// A processor that stalls for seconds must not cost the connection: the
// reader keeps reading and answering pongs, the ring overflows, the books
// go stale, and after the stall they resync and match the simulator. The
// hook stalls until the test has seen that, not for a fixed time.
func TestStalledProcessorKeepsConnectionAndResyncs(t *testing.T) {
	rate, _ := bybitsim.ParseRate("3000")
	var stalled atomic.Bool
	release := make(chan struct{})
	h := startHarness(t, bybitsim.Config{Seed: 3, Rate: rate}, Config{
		Symbols:      []string{"BTCUSDT", "ETHUSDT"},
		Topics:       []string{"orderbook.50"},
		RingSize:     64,
		RingFullWait: time.Millisecond,
		Session: session.Config{
			PingInterval: 300 * time.Millisecond,
			PongTimeout:  5 * time.Second,
			Dial:         wsconn.Options{IdleTimeout: 10 * time.Second},
		},
	}, func(e *Engine) {
		e.OnBook(func(BookRef) {
			if stalled.CompareAndSwap(false, true) {
				// The test's stand-in for a user hook that hangs.
				select {
				case <-release:
				case <-time.After(60 * time.Second):
				}
			}
		})
	})
	waitFor(t, 10*time.Second, "the stall to start", stalled.Load)
	s0 := h.e.conns[0].sess.Stats()
	waitFor(t, 20*time.Second, "pongs handled and messages dropped during the stall", func() bool {
		return h.e.conns[0].sess.Stats().Pongs >= s0.Pongs+3 && h.e.Stats().RingDrops > 0
	})
	close(release)
	waitFor(t, 30*time.Second, "healthy after the stall", func() bool { return h.get("/healthz", nil) == http.StatusOK })
	h.quiesce("linear", 50)
	h.compareBooks("linear", 50)

	st := h.e.Stats()
	if st.RingDrops == 0 {
		t.Errorf("ring drops: got 0; want > 0 (the stall should overflow a 64-slot ring)")
	}
	if got := h.e.m.staleBy(book.ReasonDropped).Get(); got == 0 {
		t.Errorf("books stale for dropped events: got 0; want > 0")
	}
	if st.Reconnects != 0 {
		t.Errorf("reconnects: got %d; want 0 (a slow processor must not cost the connection)", st.Reconnects)
	}
	t.Logf("stats: %s", st)
}

// A delta whose number does not parse marks that book alone stale (bad
// number) and it resyncs; the connection and the other books carry on.
func TestBadDeltaMarksOnlyThatBookStale(t *testing.T) {
	e, err := New(Config{Category: Linear, Symbols: []string{"AAAUSDT", "BBBUSDT"}, Topics: []string{"orderbook.50"}, Admin: "off", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	feed := directFeed(t, e)
	for _, s := range []string{"AAAUSDT", "BBBUSDT"} {
		feed(`{"topic":"orderbook.50.` + s + `","type":"snapshot","ts":1,"data":{"s":"` + s + `","b":[["10","1"]],"a":[["11","1"]],"u":5,"seq":1}}`)
	}
	feed(`{"topic":"orderbook.50.AAAUSDT","type":"delta","ts":2,"data":{"s":"AAAUSDT","b":[["10.5","1"],["10.4","1e3"]],"a":[],"u":6,"seq":2}}`)
	a := e.bySym[0].books[0].b
	b := e.bySym[1].books[0].b
	if !a.Stale() || a.Reason() != book.ReasonBadNumber {
		t.Errorf("AAAUSDT: stale=%v reason=%v; want stale for a bad number", a.Stale(), a.Reason())
	}
	if b.Stale() {
		t.Errorf("BBBUSDT: stale (%v); want live", b.Reason())
	}
	if got := e.m.staleBy(book.ReasonBadNumber).Get(); got != 1 {
		t.Errorf("books_stale_total{reason=bad_number}: got %d; want 1", got)
	}
}

// directFeed returns a function that parses one frame into e's first
// connection's ring and applies everything in the ring on the calling
// goroutine, as the processor would, without starting the engine. A frame
// that does not parse is aborted (as the reader does) and its error
// returned.
func directFeed(t *testing.T, e *Engine) func(frame string) error {
	t.Helper()
	c := e.conns[0]
	p := parse.NewParser(e.syms)
	return func(frame string) error {
		res, err := p.Parse([]byte(frame), 1, c.sink)
		if err != nil {
			c.sink.Abort(res, err)
		} else {
			c.sink.Commit()
		}
		c.sink.Flush()
		for b := c.ring.Peek(); len(b) > 0; b = c.ring.Peek() {
			for i := range b {
				c.proc.apply(c, &b[i])
			}
			c.ring.Release(len(b))
		}
		return err
	}
}
