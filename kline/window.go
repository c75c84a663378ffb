package kline

import (
	"errors"
	"fmt"
)

// Outcome says what [Window.Update] did with a candle. Each is counted; see
// [Window.Count]. The String forms are snake case, ready for metric labels.
type Outcome uint8

const (
	// Replaced: same start as the newest candle; replaced in place.
	Replaced Outcome = iota
	// Appended: newer than the newest; appended, overwriting the oldest
	// candle when the window is full. See [Window.LastGap].
	Appended
	// UpdatedOld: an older candle still in the window; replaced in place.
	UpdatedOld
	// Inserted: older than the newest and absent from the window, but within
	// its reach (it fills a gap, or the window has room below its oldest);
	// inserted in start order, evicting the oldest when full. This is how a
	// REST back-fill after a gap lands.
	Inserted
	// IgnoredTooOld: older than the oldest candle of a full window; dropped.
	IgnoredTooOld
	// IgnoredStale: an unconfirmed update for a candle already confirmed.
	// Bybit's confirmed candle is final, so an unconfirmed one for the same
	// start is an earlier state arriving late; the confirmed values are kept.
	IgnoredStale
	// Rejected: the candle fails [Validate] for the window's interval.
	Rejected

	// NumOutcomes is the number of outcomes, for iterating over counters.
	NumOutcomes = int(Rejected) + 1
)

var outcomeNames = [NumOutcomes]string{
	"replaced", "appended", "updated_old", "inserted", "ignored_too_old", "ignored_stale", "rejected",
}

// String returns the outcome's snake-case name.
func (o Outcome) String() string {
	if int(o) < NumOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Gap describes candles missing between two consecutive candles: From and To
// are the starts of the first and last missing candle (both inclusive, ready
// for the start/end parameters of REST /v5/market/kline), Missing is how many
// are missing. The zero Gap means none.
type Gap struct {
	From, To int64
	Missing  int64
}

// ErrOrder is returned (wrapped) by [Window.Load] when history is not
// strictly newest-first.
var ErrOrder = errors.New("kline: history not strictly newest-first")

// Window is a fixed-capacity ring of candles for one symbol and interval,
// kept in start order, at most one candle per start. It always holds the
// newest Cap candles it has accepted (see [Window.Update]).
//
// The zero Window is not usable; create one with [NewWindow]. A Window is
// not safe for concurrent use: one goroutine, the symbol's processor,
// calls every method.
type Window struct {
	buf    []Candle // ring storage, len(buf) == capacity
	iv     Interval
	tail   int   // ring index of the oldest candle
	n      int   // number of candles held
	gaps   int64 // missing intervals between consecutive held candles
	last   Gap   // gap opened by the most recent append
	counts [NumOutcomes]uint64
}

// NewWindow returns an empty window of the given capacity for interval iv,
// with its storage allocated once. It panics if capacity < 1 or iv is not a
// Bybit interval (see [Interval.Valid]).
func NewWindow(capacity int, iv Interval) *Window {
	if capacity < 1 {
		panic(fmt.Sprintf("kline: NewWindow capacity %d < 1", capacity))
	}
	if !iv.Valid() {
		panic(fmt.Sprintf("kline: NewWindow interval %d is not a Bybit interval", int64(iv)))
	}
	return &Window{buf: make([]Candle, capacity), iv: iv}
}

// Interval returns the window's interval.
func (w *Window) Interval() Interval { return w.iv }

// Len returns the number of candles held.
func (w *Window) Len() int { return w.n }

// Cap returns the window's capacity.
func (w *Window) Cap() int { return len(w.buf) }

// Reset empties the window and clears its gap state, keeping its storage.
// Counters are cumulative for the window's life and are not reset.
func (w *Window) Reset() {
	w.tail, w.n, w.gaps, w.last = 0, 0, 0, Gap{}
}

// Count returns how many Update calls had outcome o.
func (w *Window) Count(o Outcome) uint64 { return w.counts[o] }

// Gaps returns the number of missing intervals between consecutive candles
// in the window: 0 when the held candles are contiguous.
func (w *Window) Gaps() int64 { return w.gaps }

// LastGap returns the gap opened by the most recent [Appended] update:
// the intervals missing between the previous newest candle and the
// appended one. It is the zero Gap when that append was contiguous, and
// after [Window.Reset] or [Window.Load]. Filling the gap does not change it;
// [Window.Gaps] tells whether gaps remain.
func (w *Window) LastGap() Gap { return w.last }

// Newest returns a copy of the newest candle; ok is false when the window is
// empty.
func (w *Window) Newest() (c Candle, ok bool) {
	if w.n == 0 {
		return Candle{}, false
	}
	return w.buf[w.idx(w.n-1)], true
}

// At returns a copy of the i-th candle counting from the newest (At(0) is
// the newest); ok is false when i is outside [0, Len()).
func (w *Window) At(i int) (c Candle, ok bool) {
	if i < 0 || i >= w.n {
		return Candle{}, false
	}
	return w.buf[w.idx(w.n-1-i)], true
}

// Last appends copies of the newest n candles (all of them if fewer are
// held, none if n <= 0) to dst, oldest first, and returns the extended
// slice. It allocates only when dst lacks room; the copies are the caller's.
func (w *Window) Last(dst []Candle, n int) []Candle {
	n = min(max(n, 0), w.n)
	first := w.idx(w.n - n) // ring index of the oldest candle to copy
	if end := first + n; end <= len(w.buf) {
		return append(dst, w.buf[first:end]...)
	}
	dst = append(dst, w.buf[first:]...)
	return append(dst, w.buf[:first+n-len(w.buf)]...)
}

// Update applies candle c, a full snapshot of one candle as Bybit sends it,
// and returns what it did:
//
//   - invalid for the interval ([Validate]): [Rejected], nothing changes;
//   - same start as the newest: [Replaced];
//   - newer start: [Appended], overwriting the oldest when full; LastGap
//     reports any intervals skipped;
//   - older start held in the window: [UpdatedOld];
//   - older start not held but newer than the oldest, or the window has
//     room: [Inserted];
//   - older than the oldest of a full window: [IgnoredTooOld].
//
// A confirmed candle stays confirmed: an unconfirmed update for a start
// whose candle is confirmed is [IgnoredStale] and changes nothing, while a
// confirmed resend replaces the values (the latest confirmed state wins).
// A candle superseded by a newer start while unconfirmed stays unconfirmed
// (its final update was missed; refetch it, e.g. when At(1) after an
// Appended is not confirmed).
//
// Update does not allocate and takes O(1) time for the newest candle and for
// late updates on a gap-free window.
func (w *Window) Update(c Candle) Outcome {
	if Validate(w.iv, c) != nil {
		return w.count(Rejected)
	}
	if w.n == 0 {
		w.buf[w.tail] = c
		w.n = 1
		w.last = Gap{}
		return w.count(Appended)
	}
	newest := &w.buf[w.idx(w.n-1)]
	switch {
	case c.Start == newest.Start:
		return w.count(replace(newest, c, Replaced))
	case c.Start > newest.Start:
		w.append(c, newest.Start)
		return w.count(Appended)
	}
	return w.count(w.updateOld(c, newest.Start))
}

func (w *Window) count(o Outcome) Outcome {
	w.counts[o]++
	return o
}

// replace writes c over *p unless that would unconfirm a confirmed candle.
func replace(p *Candle, c Candle, ok Outcome) Outcome {
	if p.Confirm && !c.Confirm {
		return IgnoredStale
	}
	*p = c
	return ok
}

// idx maps logical position i (0 = oldest) in [0, len(buf)] to a ring index.
func (w *Window) idx(i int) int {
	j := w.tail + i
	if j >= len(w.buf) {
		j -= len(w.buf)
	}
	return j
}

// append adds c after the newest candle, whose start is prev.
func (w *Window) append(c Candle, prev int64) {
	missing := w.iv.steps(prev, c.Start) - 1
	if missing > 0 {
		w.last = Gap{From: w.iv.Add(prev, 1), To: w.iv.Add(c.Start, -1), Missing: missing}
	} else {
		w.last = Gap{}
	}
	if w.n < len(w.buf) {
		w.buf[w.idx(w.n)] = c
		w.n++
		w.gaps += missing
		return
	}
	// Full: c takes the oldest candle's slot.
	if w.n == 1 {
		w.buf[w.tail] = c // the previous candle leaves, and with it any gap
		return
	}
	w.evictGap()
	w.buf[w.tail] = c
	w.tail = w.idx(1)
	w.gaps += missing
}

// evictGap subtracts the gap after the oldest candle, which is about to
// leave a window of two or more. A gap-free window skips the division.
func (w *Window) evictGap() {
	if w.gaps != 0 {
		w.gaps -= w.iv.steps(w.buf[w.tail].Start, w.buf[w.idx(1)].Start) - 1
	}
}

// updateOld applies c, older than the newest candle (start newest).
func (w *Window) updateOld(c Candle, newest int64) Outcome {
	oldest := w.buf[w.tail].Start
	if c.Start < oldest {
		if w.n == len(w.buf) {
			return IgnoredTooOld
		}
		w.tail = w.idx(len(w.buf) - 1) // one slot back
		w.buf[w.tail] = c
		w.n++
		w.gaps += w.iv.steps(c.Start, oldest) - 1
		return Inserted
	}
	var k int // logical position of the first candle starting at or after c
	if w.gaps == 0 {
		// Contiguous: the position follows from the start.
		k = w.n - 1 - int(w.iv.steps(c.Start, newest))
		if w.buf[w.idx(k)].Start != c.Start {
			panic(fmt.Sprintf("BUG: kline: gap-free window holds start %d at %d; want %d",
				w.buf[w.idx(k)].Start, k, c.Start))
		}
	} else {
		k = w.search(c.Start)
	}
	if p := &w.buf[w.idx(k)]; p.Start == c.Start {
		return replace(p, c, UpdatedOld)
	}
	w.insert(k, c)
	return Inserted
}

// search returns the logical position of the first candle whose start is
// >= s: a binary search, since the ring is in start order.
func (w *Window) search(s int64) int {
	lo, hi := 0, w.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if w.buf[w.idx(m)].Start < s {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// insert puts c at logical position k, 0 < k < n, between two held candles
// whose starts bracket c's. A full window first drops its oldest candle.
// Whichever side of k is shorter moves by one slot.
func (w *Window) insert(k int, c Candle) {
	if w.n == len(w.buf) {
		w.evictGap()
		w.tail = w.idx(1)
		w.n--
		k--
	}
	succ := w.buf[w.idx(k)].Start
	if k == 0 {
		w.gaps += w.iv.steps(c.Start, succ) - 1
	} else {
		pred := w.buf[w.idx(k-1)].Start
		w.gaps += w.iv.steps(pred, c.Start) + w.iv.steps(c.Start, succ) - w.iv.steps(pred, succ) - 1
	}
	if k <= w.n-k {
		w.tail = w.idx(len(w.buf) - 1)
		for i := 0; i < k; i++ {
			w.buf[w.idx(i)] = w.buf[w.idx(i+1)]
		}
	} else {
		for i := w.n; i > k; i-- {
			w.buf[w.idx(i)] = w.buf[w.idx(i-1)]
		}
	}
	w.buf[w.idx(k)] = c
	w.n++
}

// Load merges REST history into the window. history must be newest-first,
// as Bybit's /v5/market/kline returns it, with strictly decreasing starts.
// A zero End is taken as the interval's last millisecond, since REST rows
// carry no end time; set Confirm on every row but the still-open one.
//
// The result is what Updating with each row, oldest first, would give:
// the window holds the newest Cap candles of the union of what it held and
// history, and for a start in both the row wins unless it would unconfirm a
// confirmed candle. Candles the stream delivered while the request was in
// flight are kept, so Load serves both start-up and back-fill after a gap.
// Afterwards LastGap is zero and Gaps counts what is still missing.
//
// If any row is invalid ([Validate]) or out of order, Load returns an error
// wrapping the reason and the row's index, and the window is unchanged.
// Load does not count outcomes, does not retain history and does not
// allocate (except for the error); it runs in O(Cap + len(history)).
func (w *Window) Load(history []Candle) error {
	for i := range history {
		c := w.fill(history[i])
		if err := Validate(w.iv, c); err != nil {
			return fmt.Errorf("kline: Load history[%d]: %w", i, err)
		}
		if i > 0 && c.Start >= history[i-1].Start {
			return fmt.Errorf("kline: Load history[%d] start %d after history[%d] start %d: %w",
				i, c.Start, i-1, history[i-1].Start, ErrOrder)
		}
	}
	size := len(w.buf)

	// Pass 1: merge newest-first, without writing, to count the output and
	// how many outputs come from history alone (fromHist). The ring's
	// newest end then moves fromHist slots forward, which is what makes the
	// in-place merge of pass 2 safe: a write never lands on a held candle
	// that is still to be read (after k outputs of which h came from
	// history, the write position is fromHist-h >= 0 slots above the next
	// unread held candle).
	hi, wi, out, fromHist := 0, 0, 0, 0
	for out < size && (hi < len(history) || wi < w.n) {
		switch {
		case wi == w.n || (hi < len(history) && history[hi].Start > w.buf[w.idx(w.n-1-wi)].Start):
			hi++
			fromHist++
		case hi == len(history) || w.buf[w.idx(w.n-1-wi)].Start > history[hi].Start:
			wi++
		default:
			hi++
			wi++
		}
		out++
	}
	if out == 0 {
		return nil // nothing held, nothing given
	}

	// Pass 2: the same merge, limited to the rows and held candles pass 1
	// took (histUsed, heldUsed), writing newest-first downwards from the new
	// newest slot. A held candle is read before its slot can be written;
	// slots of dropped candles may be overwritten early, which is why they
	// must not be looked at again, not even to compare.
	histUsed, heldUsed := hi, wi
	wpos := (w.tail + w.n - 1 + size) % size           // next held candle to read
	pos := (w.tail + w.n - 1 + fromHist + size) % size // next slot to write
	hi, wi = 0, 0
	for k := 0; k < out; k++ {
		var c Candle
		switch {
		case wi == heldUsed || (hi < histUsed && history[hi].Start > w.buf[wpos].Start):
			c = w.fill(history[hi])
			hi++
		case hi == histUsed || w.buf[wpos].Start > history[hi].Start:
			c = w.buf[wpos]
			wi++
			wpos = w.back(wpos)
		default:
			c = w.buf[wpos]
			replace(&c, w.fill(history[hi]), Replaced)
			hi++
			wi++
			wpos = w.back(wpos)
		}
		w.buf[pos] = c
		if k < out-1 {
			pos = w.back(pos)
		}
	}
	w.tail, w.n, w.last = pos, out, Gap{}
	w.gaps = 0
	for i := 1; i < w.n; i++ {
		w.gaps += w.iv.steps(w.buf[w.idx(i-1)].Start, w.buf[w.idx(i)].Start) - 1
	}
	return nil
}

// fill sets a zero End to the interval's last millisecond.
func (w *Window) fill(c Candle) Candle {
	if c.End == 0 {
		c.End = w.iv.End(c.Start)
	}
	return c
}

// back returns the ring index before j.
func (w *Window) back(j int) int {
	if j == 0 {
		return len(w.buf) - 1
	}
	return j - 1
}
