package book

import (
	"sync"
	"sync/atomic"
	"testing"
)

// related returns a Quote whose fields all derive from i, so a reader can
// tell a torn copy (fields from two stores) from a consistent one.
//
// As in a book's stream, the header changes with every message and the
// rest less often: the bid every 2nd, the ask every 4th, the stale flag
// every 8th, so a Store that leaves fields as they were (Top.Store skips
// them) is checked by the same torn-read test.
func related(i int64) Quote {
	return Quote{
		BidPrice: i / 2, BidSize: 2 * (i / 2),
		AskPrice: i/4 + 1, AskSize: 3 * (i / 4),
		U: i, Seq: 5 * i, TS: 7 * i, CTS: 7*i - 1,
		Stale: (i/8)%2 == 1,
	}
}

// TestTopConcurrent has one writer storing related quotes while several
// readers load them: every successful load must be one whole stored quote,
// and u must never go backwards for a reader. Loops are bounded by count.
func TestTopConcurrent(t *testing.T) {
	writes, reads := int64(200_000), 100_000
	if raceEnabled {
		writes, reads = 20_000, 10_000
	}
	var top Top
	top.Store(related(0))
	var done atomic.Bool
	var wg sync.WaitGroup
	const readers = 3
	okLoads := make([]int, readers)
	for r := range readers {
		wg.Go(func() {
			last := int64(-1)
			for n := 0; n < reads || !done.Load(); n++ {
				if n > 50*reads {
					break // bounded even if the writer stalls
				}
				q, ok := top.Load()
				if !ok {
					if q != (Quote{Stale: true}) {
						t.Errorf("failed load: got %+v; want Quote{Stale: true}", q)
						return
					}
					continue
				}
				okLoads[r]++
				if want := related(q.U); q != want {
					t.Errorf("torn read: got %+v; want %+v", q, want)
					return
				}
				if q.U < last {
					t.Errorf("u went backwards: got %d after %d", q.U, last)
					return
				}
				last = q.U
			}
		})
	}
	for i := int64(1); i <= writes; i++ {
		top.Store(related(i))
	}
	done.Store(true)
	wg.Wait()
	for r, n := range okLoads {
		if n == 0 {
			t.Errorf("reader %d: got 0 successful loads; want > 0", r)
		}
	}
	if q, ok := top.Load(); !ok || q != related(writes) {
		t.Errorf("final load: got %+v %v; want %+v", q, ok, related(writes))
	}
}

// TestBookTopConcurrent does the same through a Book: the owner applies
// deltas whose header and best bid derive from u while readers load the
// published top.
func TestBookTopConcurrent(t *testing.T) {
	deltas := int64(20_000)
	if raceEnabled {
		deltas = 3_000
	}
	b := New(Config{Depth: 50})
	hdr := func(u int64) Header { return Header{U: u, Seq: 3 * u, TS: 10 * u, CTS: 10*u - 1} }
	if err := b.ApplySnapshot(hdr(100), []Level{{1000, 100}, {999, 1}}, []Level{{2000, 1}}); err != nil {
		t.Fatal(err)
	}
	top := b.Top()
	var done atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for n := 0; n < 1_000_000 && !done.Load(); n++ {
				q, ok := top.Load()
				if !ok {
					continue
				}
				if q.Seq != 3*q.U || q.TS != 10*q.U || q.CTS != q.TS-1 || q.BidSize != q.U || q.BidPrice != 1000 || q.AskPrice != 2000 || q.Stale {
					t.Errorf("inconsistent top: %+v", q)
					return
				}
			}
		})
	}
	lv := make([]Level, 2)
	for u := int64(101); u < 100+deltas; u++ {
		lv[0] = Level{1000, u}           // best bid size follows u
		lv[1] = Level{990 - u%10, u % 2} // churn below the top
		if err := b.ApplyDelta(hdr(u), lv, nil); err != nil {
			t.Fatalf("delta %d: %v", u, err)
		}
	}
	done.Store(true)
	wg.Wait()
}

// TestTopLoadGivesUp checks the fallback when a store never finishes (a
// writer stopped between its two sequence stores).
func TestTopLoadGivesUp(t *testing.T) {
	var top Top
	top.Store(related(4))
	top.seq.Add(1) // odd: a store in progress forever
	if q, ok := top.Load(); ok || q != (Quote{Stale: true}) {
		t.Fatalf("got %+v %v; want Quote{Stale: true} false", q, ok)
	}
	top.seq.Add(1)
	if q, ok := top.Load(); !ok || q != related(4) {
		t.Fatalf("after the store ends: got %+v %v; want %+v true", q, ok, related(4))
	}
}
