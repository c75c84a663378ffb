package ringfeed

import (
	"testing"

	"github.com/ringfeed/ringfeed/net/publish"
	"github.com/ringfeed/ringfeed/net/wsconn"
)

// drainAll takes every slot out of the processor's hand-off ring.
func (r *handoffRig) drainAll() []publish.Msg {
	var out []publish.Msg
	pr := r.p.pub.r
	for b := pr.Peek(); len(b) > 0; b = pr.Peek() {
		out = append(out, b...)
		pr.Release(len(b))
	}
	return out
}

// A full hand-off ring costs counted drops and a snapshot owed, never a
// wait: the updates that did not fit leave a jump in N, and the refresh
// carries the book as it is, numbered with the last update it includes.
func TestPublishHandoffRingFull(t *testing.T) {
	r := newHandoffRig(t, 4, true)
	defer r.close()
	r.inline = false // nobody drains: the ring fills
	bs := r.e.bySym[0].books[0]
	first := r.drainAll() // the snapshot the rig started with
	if len(first) != 2 || first[0].Op != publish.OpSnapshot || first[1].Flags&publish.Last == 0 || first[1].N != 1 {
		t.Fatalf("start: %d slots %+v; want a 2-slot snapshot numbered 1", len(first), first)
	}
	for range 10 {
		r.delta.U++
		r.delta.RecvNs = wsconn.Nanotime()
		r.p.apply(r.c, &r.delta)
	}
	if d := r.p.pub.drops.Get(); d == 0 || !bs.pub.lost {
		t.Fatalf("after 10 deltas into 4 slots: %d drops, lost %v; want drops and a snapshot owed", d, bs.pub.lost)
	}
	got := r.drainAll()
	for i, m := range got {
		if m.Op != publish.OpDelta || m.N != uint64(i+2) {
			t.Fatalf("slot %d: op %d n %d; want delta n %d", i, m.Op, m.N, i+2)
		}
	}
	if bs.pub.n != 11 {
		t.Fatalf("stream number %d after 1 snapshot and 10 deltas; want 11", bs.pub.n)
	}
	r.p.pubHousekeep(wsconn.Nanotime())
	snap := r.drainAll()
	if len(snap) != 2 || snap[0].Op != publish.OpSnapshot || snap[0].Flags&publish.First == 0 || snap[1].Flags&publish.Last == 0 {
		t.Fatalf("refresh: %+v; want a 2-slot snapshot", snap)
	}
	levels := 0
	for _, m := range snap {
		levels += int(m.NBids + m.NAsks)
	}
	if snap[1].N != 11 || snap[1].U != r.delta.U || levels != bs.b.Len(0)+bs.b.Len(1) || bs.pub.lost {
		t.Errorf("refresh: n %d u %d, %d levels, lost %v; want n 11, u %d, %d levels, nothing owed",
			snap[1].N, snap[1].U, levels, bs.pub.lost, r.delta.U, bs.b.Len(0)+bs.b.Len(1))
	}
	r.delta.U++
	r.p.apply(r.c, &r.delta)
	if next := r.drainAll(); len(next) != 1 || next[0].N != 12 {
		t.Errorf("after the refresh: %+v; want one delta numbered 12", next)
	}
}
