package book

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// Workloads shared by the allocation gates and the benchmarks: a book of n
// levels a side and a cycle of delta messages that returns it to where it
// started, so a benchmark can loop over the cycle forever while every level
// change stays a real insert, replace or delete.

const wlMid = 1_000_000 // bids below, asks above: a workload never crosses

type deltaMsg struct {
	bids, asks []Level
}

// wlKind is the mix of level changes in a workload's messages.
type wlKind int

const (
	wlReplace wlKind = iota // sizes of present levels change
	wlInsDel                // half the levels are new prices, half deletes
	wlMixed                 // 70% replace, 15% insert, 15% delete
)

func (k wlKind) String() string {
	return [...]string{"replace", "insert-delete", "mixed"}[k]
}

type workload struct {
	bids, asks []Level    // the starting snapshot, best first
	msgs       []deltaMsg // forward messages, then their undos in reverse
	levels     int        // level changes in the whole cycle
}

// newWorkload builds a book of n levels a side drawn from a universe of 2n
// prices a side, and a cycle of 2*count messages of k (even) level changes
// each.
func newWorkload(n, k, count int, kind wlKind, seed uint64) *workload {
	r := rand.New(rand.NewPCG(seed, 0x600d))
	var sides [2]map[int64]int64
	w := &workload{}
	for s := range 2 {
		sides[s] = make(map[int64]int64, 2*n)
		// Take n of the 2n prices at random so gaps exist for inserts.
		perm := r.Perm(2 * n)
		for _, i := range perm[:n] {
			sides[s][wlPrice(Side(s), i)] = 1 + r.Int64N(1e6)
		}
	}
	w.bids, w.asks = sortedSide(sides[0], Bid), sortedSide(sides[1], Ask)

	undo := make([]deltaMsg, 0, count)
	for range count {
		var fwd, back [2][]Level
		used := map[int64]bool{}
		// Changes come in pairs on one side, an insert always with a delete,
		// so both sides keep n levels at every message boundary and a book
		// capped at n never evicts: the cycle stays exact.
		for j := 0; j+1 < k; j += 2 {
			s := r.IntN(2)
			ops := [2]int{0, 0} // replace, replace
			if kind == wlInsDel || (kind == wlMixed && r.IntN(100) >= 70) {
				ops = [2]int{1, 2} // insert, delete
			}
			for _, op := range ops {
				var p int64
				for tries := 0; ; tries++ {
					p = wlPrice(Side(s), r.IntN(2*n))
					_, present := sides[s][p]
					if !used[p] && present == (op != 1) {
						break
					}
					if tries > 100*n {
						panic("workload: no price fits")
					}
				}
				used[p] = true
				old := sides[s][p]
				size := int64(0)
				if op != 2 {
					size = 1 + r.Int64N(1e6)
					sides[s][p] = size
				} else {
					delete(sides[s], p)
				}
				fwd[s] = append(fwd[s], Level{p, size})
				back[s] = append(back[s], Level{p, old})
			}
		}
		w.msgs = append(w.msgs, deltaMsg{fwd[0], fwd[1]})
		undo = append(undo, deltaMsg{back[0], back[1]})
		w.levels += 2 * (k &^ 1)
	}
	slices.Reverse(undo)
	w.msgs = append(w.msgs, undo...)
	return w
}

func wlPrice(s Side, i int) int64 {
	if s == Bid {
		return wlMid - 1 - int64(i)
	}
	return wlMid + 1 + int64(i)
}

// sortedSide returns the levels of a price → size map best first for side
// s; the model and the workload checks share it.
func sortedSide(m map[int64]int64, s Side) []Level {
	out := make([]Level, 0, len(m))
	for p, sz := range m {
		out = append(out, Level{p, sz})
	}
	slices.SortFunc(out, func(a, b Level) int {
		if s == Bid {
			return cmp.Compare(b.Price, a.Price)
		}
		return cmp.Compare(a.Price, b.Price)
	})
	return out
}

// snapshotPair returns two different snapshots of n levels a side to
// alternate between, so each reload really replaces the book.
func snapshotPair(n int) [2][2][]Level {
	var out [2][2][]Level
	for v := range 2 {
		for s := range 2 {
			lv := make([]Level, n)
			for i := range lv {
				lv[i] = Level{wlPrice(Side(s), 2*i+v), int64(1 + i + v)}
			}
			out[v][s] = lv
		}
	}
	return out
}

// cycledBook returns a book of depth n holding w's snapshot with one
// whole message cycle applied (which returns it to the snapshot), and the
// update id of the last message.
func cycledBook(t testing.TB, w *workload, n int) (*Book, int64) {
	t.Helper()
	b := New(Config{Depth: n})
	u := int64(1)
	if err := b.ApplySnapshot(Header{U: u}, w.bids, w.asks); err != nil {
		t.Fatal(err)
	}
	if err := applyCycle(b, w, &u); err != nil {
		t.Fatal(err)
	}
	return b, u
}

// applyCycle applies the workload's whole message cycle to b, u counting on
// from *u.
func applyCycle(b *Book, w *workload, u *int64) error {
	for _, m := range w.msgs {
		*u++
		if err := b.ApplyDelta(Header{U: *u}, m.bids, m.asks); err != nil {
			return err
		}
	}
	return nil
}
