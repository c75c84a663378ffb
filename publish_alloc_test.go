//go:build !race

package ringfeed

import (
	"testing"
)

// The processor's side of the NATS hand-off — copying deltas, snapshots,
// trades, candles and tickers into the publisher's ring — allocates
// nothing per message.
func TestPublishHandoffAllocs(t *testing.T) {
	r := newHandoffRig(t, DefaultPublishRing, true)
	defer r.close()
	for range 1000 { // warm up
		r.step()
	}
	allocs := testing.AllocsPerRun(10000, r.step)
	if allocs != 0 {
		t.Errorf("got %v allocs per message with publishing on; want 0", allocs)
	}
	// A resync's snapshot copy, too.
	st := r.e.bySym[0]
	allocs = testing.AllocsPerRun(100, func() {
		if !r.p.pubSnapshot(st, st.books[0], 0) {
			t.Fatal("snapshot refused with the ring drained")
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocs per snapshot; want 0", allocs)
	}
	if d := r.p.pub.drops.Get(); d != 0 {
		t.Errorf("%d drops with a drained ring", d)
	}
}
