package book

import "github.com/google/btree"

// sliceMaxDepth is the deepest depth cap whose sides are kept in sorted
// slices rather than B-trees. A capped side holds at most its cap of
// levels (plus what one message inserts before End trims it), and
// Bybit's changes land near the top of the book, which is the slice's
// end: a change moves the few levels above it, one binary search finds
// it with the comparison inlined, and the depth cap trims by reslicing.
// The B-tree's search calls its less function through a pointer per
// comparison: on the replay-8 feed (orderbook.50 deltas of ~6 levels)
// Book.Set cost ~150 ns a frame with the tree against ~45 with the slice
// (BenchmarkReplay CPU profile). Deeper books keep the tree, whose
// inserts do not move hundreds of levels.
const sliceMaxDepth = 200

// side is one side of a book: a sorted slice for a book capped at
// sliceMaxDepth or less, else a B-tree ordered best first.
type side struct {
	t *btree.BTreeG[Level]
	// lv holds the levels worst first, so the best is last: bids by
	// ascending price, asks by descending.
	lv  []Level
	bid bool
}

func newSliceSide(bid bool, depth int) *side {
	// Room for a message that inserts before End trims: the cap again
	// and two slots' worth of levels; more grows the slice once.
	return &side{lv: make([]Level, 0, 2*depth+128), bid: bid}
}

// search returns where price p is in lv, or where it would be inserted,
// and whether it is there. (Comparing Price*sgn would overflow at the
// int64 limits; two loops do not.)
func (s *side) search(p int64) (int, bool) {
	lo, hi := 0, len(s.lv)
	if s.bid {
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if s.lv[m].Price < p {
				lo = m + 1
			} else {
				hi = m
			}
		}
	} else {
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if s.lv[m].Price > p {
				lo = m + 1
			} else {
				hi = m
			}
		}
	}
	return lo, lo < len(s.lv) && s.lv[lo].Price == p
}

// set inserts lv, or replaces the level at its price.
func (s *side) set(lv Level) {
	if s.t != nil {
		s.t.ReplaceOrInsert(lv)
		return
	}
	i, ok := s.search(lv.Price)
	if ok {
		s.lv[i] = lv
		return
	}
	s.lv = append(s.lv, Level{})
	copy(s.lv[i+1:], s.lv[i:])
	s.lv[i] = lv
}

// remove deletes the level at lv's price and reports whether there was one.
func (s *side) remove(lv Level) bool {
	if s.t != nil {
		_, ok := s.t.Delete(lv)
		return ok
	}
	i, ok := s.search(lv.Price)
	if ok {
		s.lv = s.lv[:i+copy(s.lv[i:], s.lv[i+1:])]
	}
	return ok
}

// best returns the best level and whether the side has one.
func (s *side) best() (Level, bool) {
	if s.t != nil {
		return s.t.Min()
	}
	if len(s.lv) == 0 {
		return Level{}, false
	}
	return s.lv[len(s.lv)-1], true
}

func (s *side) len() int {
	if s.t != nil {
		return s.t.Len()
	}
	return len(s.lv)
}

// trim removes the worst levels beyond n and returns how many it removed.
func (s *side) trim(n int) int {
	if s.t != nil {
		k := 0
		for s.t.Len() > n {
			s.t.DeleteMax()
			k++
		}
		return k
	}
	k := len(s.lv) - n
	if k <= 0 {
		return 0
	}
	s.lv = s.lv[:copy(s.lv, s.lv[k:])]
	return k
}

func (s *side) clear() {
	if s.t != nil {
		s.t.Clear(true)
		return
	}
	s.lv = s.lv[:0]
}

// ascend calls fn for each level, best first, until it returns false.
func (s *side) ascend(fn func(Level) bool) {
	if s.t != nil {
		s.t.Ascend(fn)
		return
	}
	for i := len(s.lv) - 1; i >= 0; i-- {
		if !fn(s.lv[i]) {
			return
		}
	}
}
