package kline

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// refModel is the reference the window is checked against: every accepted
// candle in a map keyed by start, plus a sorted key list. The window must
// always equal the newest Cap candles of the map. Interval arithmetic here
// uses the time package, independently of interval.go.
type refModel struct {
	iv     Interval
	cap    int
	m      map[int64]Candle
	keys   []int64 // sorted ascending
	last   Gap
	counts [NumOutcomes]uint64
}

func newRef(iv Interval, capacity int) *refModel {
	return &refModel{iv: iv, cap: capacity, m: make(map[int64]Candle)}
}

func utc(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// refNext returns the start k intervals after start s (k may be negative).
func refNext(iv Interval, s int64, k int) int64 {
	if iv == Month {
		return utc(s).AddDate(0, k, 0).UnixMilli()
	}
	return s + int64(k)*int64(iv)
}

// refSteps counts intervals from start a to start b, b >= a, by walking.
func refSteps(iv Interval, a, b int64) int64 {
	if iv != Month {
		return (b - a) / int64(iv)
	}
	ta, tb := utc(a), utc(b)
	return int64(tb.Year()-ta.Year())*12 + int64(tb.Month()-ta.Month())
}

func refAligned(iv Interval, s int64) bool {
	t := utc(s)
	midnight := t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	switch iv {
	case Month:
		return midnight && t.Day() == 1
	case Week:
		return midnight && t.Weekday() == time.Monday
	}
	return s%int64(iv) == 0
}

func refValid(iv Interval, c Candle) bool {
	if c.Start < 0 || c.Start >= MaxTime || !refAligned(iv, c.Start) {
		return false
	}
	if c.End < c.Start || c.End >= refNext(iv, c.Start, 1) {
		return false
	}
	return c.Low <= c.High && c.Low <= c.Open && c.Open <= c.High &&
		c.Low <= c.Close && c.Close <= c.High && c.Volume >= 0 && c.Turnover >= 0
}

// view returns the newest cap candles, oldest first.
func (r *refModel) view() []Candle {
	k := r.keys[max(0, len(r.keys)-r.cap):]
	out := make([]Candle, len(k))
	for i, s := range k {
		out[i] = r.m[s]
	}
	return out
}

func (r *refModel) gaps() int64 {
	v := r.view()
	var g int64
	for i := 1; i < len(v); i++ {
		g += refSteps(r.iv, v[i-1].Start, v[i].Start) - 1
	}
	return g
}

// put stores c under the confirm rule and reports whether it was stored.
func (r *refModel) put(c Candle) bool {
	old, ok := r.m[c.Start]
	if ok && old.Confirm && !c.Confirm {
		return false
	}
	if !ok {
		i, _ := slices.BinarySearch(r.keys, c.Start)
		r.keys = slices.Insert(r.keys, i, c.Start)
	}
	r.m[c.Start] = c
	return true
}

// update predicts Update's outcome from the view, then applies c.
func (r *refModel) update(c Candle) Outcome {
	o := r.predict(c)
	r.counts[o]++
	if o == Rejected {
		return o
	}
	if o == Appended {
		r.last = Gap{}
		if len(r.keys) > 0 {
			prev := r.keys[len(r.keys)-1]
			if miss := refSteps(r.iv, prev, c.Start) - 1; miss > 0 {
				r.last = Gap{From: refNext(r.iv, prev, 1), To: refNext(r.iv, c.Start, -1), Missing: miss}
			}
		}
	}
	r.put(c)
	return o
}

func (r *refModel) predict(c Candle) Outcome {
	if !refValid(r.iv, c) {
		return Rejected
	}
	v := r.view()
	if len(v) == 0 || c.Start > v[len(v)-1].Start {
		return Appended
	}
	for i, h := range v {
		if h.Start != c.Start {
			continue
		}
		switch {
		case h.Confirm && !c.Confirm:
			return IgnoredStale
		case i == len(v)-1:
			return Replaced
		}
		return UpdatedOld
	}
	if c.Start < v[0].Start && len(v) == r.cap {
		return IgnoredTooOld
	}
	return Inserted
}

// load applies newest-first history oldest first, filling zero Ends.
func (r *refModel) load(history []Candle) {
	for i := len(history) - 1; i >= 0; i-- {
		c := history[i]
		if c.End == 0 {
			c.End = refNext(r.iv, c.Start, 1) - 1
		}
		r.put(c)
	}
	r.last = Gap{}
}

func (r *refModel) reset() {
	clear(r.m)
	r.keys = r.keys[:0]
	r.last = Gap{}
}

// check compares every observable of w with the reference.
func (r *refModel) check(t *testing.T, w *Window, step string) {
	t.Helper()
	want := r.view()
	if got := w.Len(); got != len(want) {
		t.Fatalf("%s: Len() = %d; want %d", step, got, len(want))
	}
	got := w.Last(nil, w.Cap()+1)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: window\n got %v\nwant %v", step, got, want)
	}
	for i := range want {
		if c, ok := w.At(i); !ok || c != want[len(want)-1-i] {
			t.Fatalf("%s: At(%d) = %v, %v; want %v, true", step, i, c, ok, want[len(want)-1-i])
		}
	}
	if c, ok := w.Newest(); ok != (len(want) > 0) || (ok && c != want[len(want)-1]) {
		t.Fatalf("%s: Newest() = %v, %v; want the last of %v", step, c, ok, want)
	}
	if g, wg := w.Gaps(), r.gaps(); g != wg {
		t.Fatalf("%s: Gaps() = %d; want %d (window %v)", step, g, wg, want)
	}
	if g := w.LastGap(); g != r.last {
		t.Fatalf("%s: LastGap() = %+v; want %+v", step, g, r.last)
	}
	for o := range Outcome(NumOutcomes) {
		if got, want := w.Count(o), r.counts[o]; got != want {
			t.Fatalf("%s: Count(%v) = %d; want %d", step, o, got, want)
		}
	}
}

// gen makes candles for random sequences around a moving newest start.
type gen struct {
	rng    *rand.Rand
	iv     Interval
	newest int64 // the newest start generated so far
}

// base is 2024-01-01 00:00 UTC, a Monday and the 1st of a month, so it is
// aligned for every interval.
const base int64 = 1704067200000

func (g *gen) candle(start int64) Candle {
	low := 1000 + g.rng.Int64N(1000)
	high := low + g.rng.Int64N(100)
	c := Candle{
		Start: start, End: refNext(g.iv, start, 1) - 1,
		Open: low + g.rng.Int64N(high-low+1), Close: low + g.rng.Int64N(high-low+1),
		High: high, Low: low,
		Volume: g.rng.Int64N(1e6), Turnover: g.rng.Int64N(1e9),
		Confirm: g.rng.IntN(3) == 0,
	}
	if g.rng.IntN(8) == 0 {
		c.End = start + g.rng.Int64N(c.End-start+1) // a short End is still valid
	}
	return c
}

// invalid breaks one rule of c.
func (g *gen) invalid(c Candle) Candle {
	switch g.rng.IntN(8) {
	case 0:
		c.Start++
	case 1:
		c.End = c.Start - 1
	case 2:
		c.End = refNext(g.iv, c.Start, 1)
	case 3:
		c.High, c.Low = c.Low-1, c.High
	case 4:
		c.Open = c.High + 1
	case 5:
		c.Close = c.Low - 1
	case 6:
		c.Volume = -1
	default:
		c.Start, c.End = MaxTime, MaxTime
	}
	return c
}

// step makes the next input: a candle, or for op "load" a history.
func (g *gen) step(r *refModel) (op string, c Candle, history []Candle) {
	v := r.view()
	pick := g.rng.IntN(100)
	switch {
	case len(v) == 0 || pick < 12:
		g.newest = refNext(g.iv, g.newest, 1)
		return "append", g.candle(g.newest), nil
	case pick < 45:
		return "replace", g.candle(v[len(v)-1].Start), nil
	case pick < 50:
		g.newest = refNext(g.iv, g.newest, 2+g.rng.IntN(4))
		if g.rng.IntN(20) == 0 {
			g.newest = refNext(g.iv, g.newest, 100)
		}
		return "append-gap", g.candle(g.newest), nil
	case pick < 62:
		return "old", g.candle(v[g.rng.IntN(len(v))].Start), nil
	case pick < 72:
		// Anywhere from well before the oldest to the newest: fills gaps,
		// inserts below the oldest, or is too old.
		n := int(refSteps(g.iv, v[0].Start, v[len(v)-1].Start)) + 2*r.cap + 1
		return "any-old", g.candle(refNext(g.iv, v[len(v)-1].Start, -g.rng.IntN(n))), nil
	case pick < 76:
		return "too-old", g.candle(refNext(g.iv, v[0].Start, -1-g.rng.IntN(3))), nil
	case pick < 86:
		return "invalid", g.invalid(g.candle(v[g.rng.IntN(len(v))].Start)), nil
	case pick < 95:
		// A REST page: contiguous newest-first run around the newest, some
		// rows with End left zero as REST gives none.
		n := 1 + g.rng.IntN(2*r.cap+2)
		top := refNext(g.iv, g.newest, g.rng.IntN(3)-1)
		history = make([]Candle, n)
		for i := range history {
			history[i] = g.candle(refNext(g.iv, top, -i))
			if g.rng.IntN(2) == 0 {
				history[i].End = 0
			}
		}
		if g.rng.IntN(3) == 0 && n > 2 {
			history = slices.Delete(history, 1, 2) // a hole in the page
		}
		if history[0].Start > g.newest {
			g.newest = history[0].Start
		}
		return "load", Candle{}, history
	case g.rng.IntN(8) == 0:
		return "reset", Candle{}, nil
	}
	g.newest = refNext(g.iv, g.newest, 1)
	return "append", g.candle(g.newest), nil
}

// runSequence drives a window and the reference with steps random inputs.
func runSequence(t *testing.T, iv Interval, capacity int, seed uint64, steps int) {
	t.Helper()
	g := &gen{rng: rand.New(rand.NewPCG(seed, uint64(capacity))), iv: iv, newest: base}
	w := NewWindow(capacity, iv)
	r := newRef(iv, capacity)
	for i := range steps {
		op, c, history := g.step(r)
		name := fmt.Sprintf("iv %v cap %d seed %d step %d %s", iv, capacity, seed, i, op)
		switch op {
		case "load":
			if err := w.Load(history); err != nil {
				t.Fatalf("%s: Load(%v) = %v; want nil", name, history, err)
			}
			r.load(history)
		case "reset":
			w.Reset()
			r.reset()
		default:
			want := r.update(c)
			if got := w.Update(c); got != want {
				t.Fatalf("%s: Update(%+v) = %v; want %v", name, c, got, want)
			}
		}
		r.check(t, w, name)
	}
}
