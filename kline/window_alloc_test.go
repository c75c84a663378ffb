//go:build !race

package kline

import "testing"

// allocCase names a hot operation and runs it once.
type allocCase struct {
	name string
	run  func()
}

func TestWindowAlloc(t *testing.T) {
	const capacity = 64
	w := NewWindow(capacity, Minute)
	for m := range int64(capacity) {
		w.Update(c1(m, 100, true))
	}
	next := int64(capacity)
	dst := make([]Candle, 0, capacity)
	history := make([]Candle, capacity)
	for i := range history {
		history[i] = c1(next+int64(capacity-1-i), 200, true)
		history[i].End = 0
	}
	gapped := NewWindow(capacity, Minute)
	for m := range int64(capacity) {
		gapped.Update(c1(2*m, 100, true)) // every other minute missing
	}
	top := int64(2 * (capacity - 1)) // newest minute of gapped
	expect := func(name string, got, want Outcome) {
		if got != want {
			t.Fatalf("%s: Update = %v; want %v", name, got, want)
		}
	}
	month := NewWindow(12, Month)
	ms := base
	cases := []allocCase{
		{"Update replace", func() { expect("replace", w.Update(c1(next-1, 101, true)), Replaced) }},
		{"Update append", func() { expect("append", w.Update(c1(next, 100, true)), Appended); next++ }},
		{"Update old", func() { expect("old", w.Update(c1(next-10, 102, true)), UpdatedOld) }},
		{"Update too old", func() { expect("too old", w.Update(c1(0, 1, true)), IgnoredTooOld) }},
		{"Update rejected", func() { expect("rejected", w.Update(Candle{Start: 1}), Rejected) }},
		{"Update old gapped", func() { expect("old gapped", gapped.Update(c1(2*(capacity/2), 103, true)), UpdatedOld) }},
		{"Update insert", func() {
			// Open a one-minute gap at the top, then fill it.
			top += 2
			expect("gap append", gapped.Update(c1(top, 1, true)), Appended)
			expect("insert", gapped.Update(c1(top-1, 1, true)), Inserted)
		}},
		{"Update month append", func() {
			expect("month", month.Update(Candle{Start: ms, End: Month.End(ms)}), Appended)
			ms = Month.Add(ms, 1)
		}},
		{"Last", func() { dst = w.Last(dst[:0], capacity) }},
		{"Load", func() {
			if err := w.Load(history); err != nil {
				t.Fatalf("Load: %v", err)
			}
		}},
		{"ParseInterval", func() { _, _ = ParseInterval("720") }},
		{"Validate", func() { _ = Validate(Minute, c1(3, 1, true)) }},
		{"Month Steps", func() { _ = Month.Steps(base, ms) }},
	}
	for _, tc := range cases {
		if got := testing.AllocsPerRun(200, tc.run); got != 0 {
			t.Errorf("%s: AllocsPerRun = %v; want 0", tc.name, got)
		}
	}
}
