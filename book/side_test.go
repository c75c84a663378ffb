package book

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/btree"
)

// A sorted-slice side and a B-tree side given the same random sets,
// removes and trims hold the same levels in the same order, best first,
// on both sides of the book and near the int64 limits.
func TestSliceSideMatchesTree(t *testing.T) {
	for _, bid := range []bool{true, false} {
		for _, base := range []int64{0, math.MaxInt64 - 100, math.MinInt64 + 100} {
			less := askLess
			if bid {
				less = bidLess
			}
			sl := newSliceSide(bid, 10)
			tr := &side{t: btree.NewG(4, less)}
			rng := rand.New(rand.NewPCG(uint64(base), 7))
			for n := range 5000 {
				lv := Level{Price: base + int64(rng.IntN(60)) - 30, Size: int64(rng.IntN(5))}
				switch op := rng.IntN(10); {
				case op < 6:
					sl.set(lv)
					tr.set(lv)
				case op < 9:
					if a, b := sl.remove(lv), tr.remove(lv); a != b {
						t.Fatalf("bid=%v op %d: remove(%d) = %v, tree %v", bid, n, lv.Price, a, b)
					}
				default:
					k := rng.IntN(20)
					if a, b := sl.trim(k), tr.trim(k); a != b {
						t.Fatalf("bid=%v op %d: trim(%d) removed %d, tree %d", bid, n, k, a, b)
					}
				}
				if got, want := levelsOf(sl), levelsOf(tr); !slices.Equal(got, want) {
					t.Fatalf("bid=%v base=%d op %d: slice side %v; tree %v", bid, base, n, got, want)
				}
				gb, gok := sl.best()
				wb, wok := tr.best()
				if gb != wb || gok != wok || sl.len() != tr.len() {
					t.Fatalf("bid=%v op %d: best %v %v len %d; tree %v %v len %d", bid, n, gb, gok, sl.len(), wb, wok, tr.len())
				}
			}
		}
	}
}

func levelsOf(s *side) []Level {
	var out []Level
	s.ascend(func(l Level) bool { out = append(out, l); return true })
	return out
}

// Books capped at sliceMaxDepth or less keep their sides in slices, deeper
// and uncapped ones in trees.
func TestSideKind(t *testing.T) {
	for _, c := range []struct {
		depth int
		slice bool
	}{{0, false}, {1, true}, {50, true}, {sliceMaxDepth, true}, {sliceMaxDepth + 1, false}, {1000, false}} {
		b := New(Config{Depth: c.depth})
		if got := b.bids.t == nil && b.asks.t == nil; got != c.slice {
			t.Errorf("depth %d: sides in slices %v; want %v", c.depth, got, c.slice)
		}
	}
}
