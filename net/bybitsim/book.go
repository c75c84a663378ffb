package bybitsim

// level is one price level. key is the price in price units for bids and the
// negated price for asks, so that on both sides a larger key is a better
// price and one code path serves both.
type level struct{ key, qty int64 }

// side is one side of the true book, sorted by ascending key: the best level
// is the LAST element, so the frequent changes near the top move few
// elements and the rare refills happen at the deep front.
type side struct {
	lv  []level
	ask bool
}

func (s *side) n() int { return len(s.lv) }

// top returns the i-th best level (0 = best). i < n().
func (s *side) top(i int) level { return s.lv[len(s.lv)-1-i] }

func (s *side) px(key int64) int64 {
	if s.ask {
		return -key
	}
	return key
}

func (s *side) key(px int64) int64 {
	if s.ask {
		return -px
	}
	return px
}

// search returns the index of key, or where it would be inserted.
func (s *side) search(key int64) (int, bool) {
	lo, hi := 0, len(s.lv)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.lv[m].key < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.lv) && s.lv[lo].key == key
}

// set makes the size at key qty; 0 deletes the level.
func (s *side) set(key, qty int64) {
	i, ok := s.search(key)
	switch {
	case ok && qty == 0:
		copy(s.lv[i:], s.lv[i+1:])
		s.lv = s.lv[:len(s.lv)-1]
	case ok:
		s.lv[i].qty = qty
	case qty != 0:
		s.lv = append(s.lv, level{})
		copy(s.lv[i+1:], s.lv[i:])
		s.lv[i] = level{key, qty}
	}
}

// get returns the size at key, 0 when absent.
func (s *side) get(key int64) int64 {
	i, ok := s.search(key)
	if !ok {
		return 0
	}
	return s.lv[i].qty
}

// window copies the best n levels, best first, into dst[:0].
func (s *side) window(dst []level, n int) []level {
	dst = dst[:0]
	if n > len(s.lv) {
		n = len(s.lv)
	}
	for i := 0; i < n; i++ {
		dst = append(dst, s.lv[len(s.lv)-1-i])
	}
	return dst
}

// diffWindow appends to dst every level that differs between old (the window
// last sent, best first) and the best n levels of s: new or resized levels
// with their size, vanished ones (deleted, or pushed out of the top n) with
// size 0. Output is best first. It is a single merge pass over both windows:
// O(n), no allocation once dst has grown.
func (s *side) diffWindow(dst []level, old []level, n int) []level {
	if n > len(s.lv) {
		n = len(s.lv)
	}
	top := len(s.lv) - 1
	i, j := 0, 0
	for i < n || j < len(old) {
		switch {
		case j == len(old) || (i < n && s.lv[top-i].key > old[j].key):
			dst = append(dst, s.lv[top-i])
			i++
		case i == n || old[j].key > s.lv[top-i].key:
			dst = append(dst, level{old[j].key, 0})
			j++
		default:
			if c := s.lv[top-i]; c.qty != old[j].qty {
				dst = append(dst, c)
			}
			i++
			j++
		}
	}
	return dst
}
