package ringfeed

import (
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// A message that fills the ring midway: its first slots are published by
// the bounded wait, the rest cannot be had. Abort must roll back only what
// is still reserved (it used to roll back published slots and panic), and
// the drop marker must reach the processor once there is room.
func TestSinkAbortAfterPartialPublish(t *testing.T) {
	m := newEngineMetrics(newMetricsSetForTest()).forConn(`conn="0",category="linear"`)
	r := ring.New[parse.Event](4)
	s := newRingSink(r, time.Millisecond, m)
	for i := 0; i < 4; i++ {
		if e := s.Next(); e == nil {
			t.Fatalf("slot %d: nil before the ring is full", i)
		}
	}
	if e := s.Next(); e != nil {
		t.Fatal("got a fifth slot from a 4-slot ring nobody drains")
	}
	s.Abort(parse.Result{Class: parse.ClassData, Kind: parse.KindBook, Sym: 0, Depth: 50}, parse.ErrNoRoom)
	if got := r.Reserved(); got != 0 {
		t.Errorf("reserved after Abort: got %d; want 0", got)
	}
	if got := r.Len(); got != 4 {
		t.Errorf("published: got %d; want the 4 slots the wait published", got)
	}
	// The processor drains; the next flush places the marker.
	r.Release(len(r.Peek()))
	s.Flush()
	b := r.Peek()
	if len(b) != 1 || b[0].Kind != kindDropped || b[0].Depth != 50 || parse.Kind(b[0].Seq) != parse.KindBook || b[0].U != markNoRoom {
		t.Fatalf("got %d events %+v; want one drop marker for the depth-50 book", len(b), b)
	}
	if got := m.ringDrops.Get(); got != 1 {
		t.Errorf("ring drops: got %d; want 1", got)
	}
}

func newMetricsSetForTest() *metrics.Set { return metrics.NewSet() }

// The publish rule by wait mode: for a parked processor committed
// messages wait for the session's flush (one wake-up per batch); for a
// spinning one each is published as it is committed, stamped, so the
// processor can apply it while the reader parses the next.
func TestSinkPublishRule(t *testing.T) {
	for _, tc := range []struct {
		eager          bool
		wantAtCommit   int
		wantAfterFlush int
	}{
		{eager: false, wantAtCommit: 0, wantAfterFlush: 2},
		{eager: true, wantAtCommit: 1, wantAfterFlush: 2},
	} {
		m := newEngineMetrics(newMetricsSetForTest()).forConn(`conn="0",category="linear"`)
		r := ring.New[parse.Event](8)
		s := newRingSink(r, time.Millisecond, m)
		s.eager = tc.eager
		e := s.Next()
		e.RecvNs = 1
		s.Commit()
		if got := r.Len(); got != tc.wantAtCommit {
			t.Errorf("eager=%v: published after the first commit: %d; want %d", tc.eager, got, tc.wantAtCommit)
		}
		if got := r.Len(); got == 1 && r.Peek()[0].PubNs == 0 {
			t.Errorf("eager=%v: a published message has no publish stamp", tc.eager)
		}
		s.Next().RecvNs = 1
		s.Commit()
		s.Flush()
		if got := r.Len(); got != tc.wantAfterFlush {
			t.Errorf("eager=%v: published after the flush: %d; want %d", tc.eager, got, tc.wantAfterFlush)
		}
	}
}
