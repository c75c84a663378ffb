package kline

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
)

// sortSlice is the baseline: a dataframe-style client's per-update pandas
// concat + drop_duplicates(keep="last") + sort_values + tail(cap), done the
// cheapest way Go allows (one reused slice, stable sort, dedupe, trim).
// pandas allocated new frames on top of this.
type sortSlice struct {
	s   []Candle
	cap int
}

func (b *sortSlice) update(c Candle) {
	b.s = append(b.s, c)
	b.normalize()
}

func (b *sortSlice) load(history []Candle) {
	b.s = append(b.s, history...)
	b.normalize()
}

func (b *sortSlice) normalize() {
	slices.SortStableFunc(b.s, func(x, y Candle) int { return cmp.Compare(x.Start, y.Start) })
	out := b.s[:0]
	for i := range b.s { // keep the last of equal starts: the latest arrival
		if i+1 < len(b.s) && b.s[i+1].Start == b.s[i].Start {
			continue
		}
		out = append(out, b.s[i])
	}
	b.s = out
	if n := len(b.s); n > b.cap {
		copy(b.s, b.s[n-b.cap:])
		b.s = b.s[:b.cap]
	}
}

// TestBaselineAgrees makes sure the benchmark compares like with like: with
// every candle unconfirmed (no confirm rule in play) the baseline and the
// window hold the same candles.
func TestBaselineAgrees(t *testing.T) {
	w := NewWindow(16, Minute)
	b := &sortSlice{cap: 16}
	for i := range int64(500) {
		m := i / 3
		if i%7 == 0 {
			m -= i % 20 // late and too-old updates
		}
		c := c1(m, i, false)
		w.Update(c)
		b.update(c)
		if got := w.Last(nil, 16); !slices.Equal(got, b.s) {
			t.Fatalf("step %d: window %v; baseline %v", i, got, b.s)
		}
	}
}

const benchCap = 1000

// fullWindow returns a window and a baseline holding benchCap contiguous
// minutes, and the next free minute.
func fullWindow() (*Window, *sortSlice, int64) {
	w := NewWindow(benchCap, Minute)
	b := &sortSlice{s: make([]Candle, 0, benchCap+1), cap: benchCap}
	for m := range int64(benchCap) {
		w.Update(c1(m, 100, true))
		b.update(c1(m, 100, true))
	}
	return w, b, benchCap
}

// BenchmarkUpdate compares the window with the sort-and-dedupe baseline for
// the two updates that make up the stream: the newest candle changing in
// place, and a new candle.
func BenchmarkUpdate(b *testing.B) {
	b.Run("replace/window", func(b *testing.B) {
		w, _, next := fullWindow()
		c := c1(next-1, 100, false)
		b.ReportAllocs()
		for b.Loop() {
			c.Close ^= 1
			w.Update(c)
		}
	})
	b.Run("replace/sortslice", func(b *testing.B) {
		_, s, next := fullWindow()
		c := c1(next-1, 100, false)
		b.ReportAllocs()
		for b.Loop() {
			c.Close ^= 1
			s.update(c)
		}
	})
	b.Run("append/window", func(b *testing.B) {
		w, _, next := fullWindow()
		b.ReportAllocs()
		for b.Loop() {
			w.Update(c1(next, 100, false))
			next++
		}
	})
	b.Run("append/sortslice", func(b *testing.B) {
		_, s, next := fullWindow()
		b.ReportAllocs()
		for b.Loop() {
			s.update(c1(next, 100, false))
			next++
		}
	})
	b.Run("old/window", func(b *testing.B) {
		w, _, next := fullWindow()
		c := c1(next-2, 100, true)
		b.ReportAllocs()
		for b.Loop() {
			c.Close ^= 1
			w.Update(c)
		}
	})
	b.Run("append-month/window", func(b *testing.B) {
		w := NewWindow(benchCap, Month)
		s := int64(0)
		b.ReportAllocs()
		for b.Loop() {
			if s >= MaxTime-int64(Week)*5 {
				s = 0 // 8000 years of months later: start over
			}
			w.Update(Candle{Start: s, End: Month.End(s)})
			s = Month.Add(s, 1)
		}
	})
}

// BenchmarkUpdateGapped is a late update on a window with gaps (binary
// search) and a gap fill (insert, moving up to half the window).
func BenchmarkUpdateGapped(b *testing.B) {
	mk := func() *Window {
		w := NewWindow(benchCap, Minute)
		for m := range int64(benchCap) {
			w.Update(c1(2*m, 100, true))
		}
		return w
	}
	b.Run("old", func(b *testing.B) {
		w := mk()
		c := c1(2*(benchCap-10), 100, true)
		b.ReportAllocs()
		for b.Loop() {
			c.Close ^= 1
			w.Update(c)
		}
	})
	for _, back := range []int64{1, benchCap / 2} {
		b.Run(fmt.Sprintf("insert-%d-back", back), func(b *testing.B) {
			w := mk()
			top := int64(2 * (benchCap - 1))
			b.ReportAllocs()
			for b.Loop() {
				// Two updates per op: reopen a gap near the top, fill one
				// back candles below it.
				top += 2
				w.Update(c1(top, 1, true))
				w.Update(c1(top-2*back+1, 1, true))
			}
		})
	}
}

// BenchmarkLoad merges a full REST page (benchCap rows, half overlapping
// the window) into a full window.
func BenchmarkLoad(b *testing.B) {
	history := make([]Candle, benchCap)
	for i := range history {
		history[i] = c1(benchCap+benchCap/2-1-int64(i), 200, true)
	}
	b.Run("window", func(b *testing.B) {
		w, _, _ := fullWindow()
		b.ReportAllocs()
		for b.Loop() {
			if err := w.Load(history); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCap, "ns/row")
	})
	b.Run("sortslice", func(b *testing.B) {
		_, s, _ := fullWindow()
		s.s = slices.Grow(s.s, benchCap)
		b.ReportAllocs()
		for b.Loop() {
			s.load(history)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCap, "ns/row")
	})
}

// BenchmarkLast copies the newest 200 candles, as /v1/klines?limit=200 does.
func BenchmarkLast(b *testing.B) {
	w, _, next := fullWindow()
	w.Update(c1(next, 1, false)) // make the ring wrap
	dst := make([]Candle, 0, 200)
	b.ReportAllocs()
	for b.Loop() {
		dst = w.Last(dst[:0], 200)
	}
}

func BenchmarkParseInterval(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseInterval("720")
	}
}

// BenchmarkIntervalSteps compares calendar month arithmetic with the fixed
// intervals' division.
func BenchmarkIntervalSteps(b *testing.B) {
	for _, iv := range []Interval{Minute, Week, Month} {
		b.Run(iv.String(), func(b *testing.B) {
			t := base
			b.ReportAllocs()
			for b.Loop() {
				_ = iv.Steps(base, t)
				t += 86_400_017
			}
		})
	}
}
