package book

import (
	"fmt"
	"slices"
	"testing"
)

// TestWorkloadCycle checks the benchmark workloads measure what they claim:
// a cycle returns the book to its snapshot, keeps n levels a side, and
// never deletes an absent level or evicts.
func TestWorkloadCycle(t *testing.T) {
	for _, n := range []int{50, 1000} {
		for _, kind := range []wlKind{wlReplace, wlInsDel, wlMixed} {
			t.Run(fmt.Sprintf("%d/%v", n, kind), func(t *testing.T) {
				w := newWorkload(n, 10, 64, kind, 1)
				b, _ := cycledBook(t, w, n)
				if got := levels(b, Bid); !slices.Equal(got, w.bids) {
					t.Fatalf("bids after a cycle differ from the snapshot")
				}
				if got := levels(b, Ask); !slices.Equal(got, w.asks) {
					t.Fatalf("asks after a cycle differ from the snapshot")
				}
				c := b.Counters()
				if c.AbsentDeletes != 0 || c.Evictions != 0 || c.Levels != uint64(w.levels) {
					t.Fatalf("got %+v; want no absent deletes or evictions and %d levels", c, w.levels)
				}
			})
		}
	}
}
