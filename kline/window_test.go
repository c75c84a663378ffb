package kline

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

var propertyIntervals = []Interval{Minute, Hour4, Day, Week, Month}

// TestWindowMatchesReference runs random sequences of in-place updates,
// appends, gaps, late and too-old updates, invalid candles, loads and resets,
// and after every step checks that the window equals the newest Cap candles
// of a map-based reference. TestNoRaceWindowMatchesReference runs it longer.
func TestWindowMatchesReference(t *testing.T) {
	for _, iv := range propertyIntervals {
		for _, capacity := range []int{1, 2, 3, 5, 16, 64} {
			t.Run(fmt.Sprintf("%v/cap%d", iv, capacity), func(t *testing.T) {
				for seed := range uint64(2) {
					runSequence(t, iv, capacity, seed, 1500)
				}
			})
		}
	}
}

// c1 makes a valid one-minute candle at minute m after base with close px.
func c1(m int64, px int64, confirmed bool) Candle {
	s := base + m*int64(Minute)
	return Candle{Start: s, End: s + int64(Minute) - 1, Open: px, High: px, Low: px, Close: px, Confirm: confirmed}
}

// starts lists the window's starts as minutes after base, oldest first.
func starts(w *Window) []int64 {
	var out []int64
	for _, c := range w.Last(nil, w.Len()) {
		out = append(out, (c.Start-base)/int64(Minute))
	}
	return out
}

func TestUpdateOutcomes(t *testing.T) {
	type step struct {
		c        Candle
		want     Outcome
		starts   []int64 // minutes after base, oldest first
		gaps     int64
		lastMiss int64
	}
	tests := []struct {
		name  string
		cap   int
		steps []step
	}{
		{"append and replace", 3, []step{
			{c1(0, 10, false), Appended, []int64{0}, 0, 0},
			{c1(0, 11, false), Replaced, []int64{0}, 0, 0},
			{c1(1, 12, false), Appended, []int64{0, 1}, 0, 0},
			{c1(2, 12, false), Appended, []int64{0, 1, 2}, 0, 0},
			{c1(3, 12, false), Appended, []int64{1, 2, 3}, 0, 0},
			{c1(3, 13, true), Replaced, []int64{1, 2, 3}, 0, 0},
		}},
		{"late updates on a gap-free window", 4, []step{
			{c1(0, 10, false), Appended, []int64{0}, 0, 0},
			{c1(1, 10, false), Appended, []int64{0, 1}, 0, 0},
			{c1(2, 10, false), Appended, []int64{0, 1, 2}, 0, 0},
			{c1(1, 11, true), UpdatedOld, []int64{0, 1, 2}, 0, 0},
			{c1(0, 11, true), UpdatedOld, []int64{0, 1, 2}, 0, 0},
			{c1(-1, 11, true), Inserted, []int64{-1, 0, 1, 2}, 0, 0},
			{c1(-2, 11, true), IgnoredTooOld, []int64{-1, 0, 1, 2}, 0, 0},
		}},
		{"gaps open, fill and leave", 4, []step{
			{c1(0, 10, true), Appended, []int64{0}, 0, 0},
			{c1(3, 10, false), Appended, []int64{0, 3}, 2, 2},
			{c1(1, 10, true), Inserted, []int64{0, 1, 3}, 1, 2},
			{c1(1, 12, true), UpdatedOld, []int64{0, 1, 3}, 1, 2},
			{c1(2, 10, true), Inserted, []int64{0, 1, 2, 3}, 0, 2},
			{c1(4, 10, false), Appended, []int64{1, 2, 3, 4}, 0, 0},
			{c1(9, 10, false), Appended, []int64{2, 3, 4, 9}, 4, 4},
			{c1(6, 10, true), Inserted, []int64{3, 4, 6, 9}, 3, 4},
			{c1(10, 10, false), Appended, []int64{4, 6, 9, 10}, 3, 0},
			{c1(11, 10, false), Appended, []int64{6, 9, 10, 11}, 2, 0},
			{c1(5, 10, false), IgnoredTooOld, []int64{6, 9, 10, 11}, 2, 0},
			{c1(7, 10, false), Inserted, []int64{7, 9, 10, 11}, 1, 0},
		}},
		{"capacity one", 1, []step{
			{c1(0, 10, false), Appended, []int64{0}, 0, 0},
			{c1(5, 10, false), Appended, []int64{5}, 0, 4},
			{c1(4, 10, false), IgnoredTooOld, []int64{5}, 0, 4},
			{c1(5, 11, true), Replaced, []int64{5}, 0, 4},
			{c1(5, 12, false), IgnoredStale, []int64{5}, 0, 4},
		}},
		{"confirmed stays confirmed", 3, []step{
			{c1(0, 10, true), Appended, []int64{0}, 0, 0},
			{c1(0, 99, false), IgnoredStale, []int64{0}, 0, 0},
			{c1(1, 10, false), Appended, []int64{0, 1}, 0, 0},
			{c1(0, 98, false), IgnoredStale, []int64{0, 1}, 0, 0},
			{c1(0, 11, true), UpdatedOld, []int64{0, 1}, 0, 0},
		}},
		{"rejected changes nothing", 3, []step{
			{c1(0, 10, false), Appended, []int64{0}, 0, 0},
			{Candle{Start: base + 1, End: base + int64(Minute)}, Rejected, []int64{0}, 0, 0},
			{Candle{Start: base + int64(Minute), End: base}, Rejected, []int64{0}, 0, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWindow(tt.cap, Minute)
			for i, s := range tt.steps {
				if got := w.Update(s.c); got != s.want {
					t.Fatalf("step %d: Update(minute %d) = %v; want %v", i, (s.c.Start-base)/int64(Minute), got, s.want)
				}
				if got := starts(w); !slices.Equal(got, s.starts) {
					t.Fatalf("step %d: starts %v; want %v", i, got, s.starts)
				}
				if got := w.Gaps(); got != s.gaps {
					t.Fatalf("step %d: Gaps() = %d; want %d", i, got, s.gaps)
				}
				if got := w.LastGap().Missing; got != s.lastMiss {
					t.Fatalf("step %d: LastGap().Missing = %d; want %d", i, got, s.lastMiss)
				}
			}
		})
	}
}

func TestConfirmedValues(t *testing.T) {
	w := NewWindow(2, Minute)
	w.Update(c1(0, 10, true))
	w.Update(c1(0, 20, false)) // late, older state: ignored
	if c, _ := w.Newest(); c.Close != 10 || !c.Confirm {
		t.Fatalf("after unconfirmed resend: close %d confirmed %v; want 10 true", c.Close, c.Confirm)
	}
	w.Update(c1(0, 30, true)) // confirmed resend: the latest wins
	if c, _ := w.Newest(); c.Close != 30 || !c.Confirm {
		t.Fatalf("after confirmed resend: close %d confirmed %v; want 30 true", c.Close, c.Confirm)
	}
}

func TestLastGap(t *testing.T) {
	w := NewWindow(10, Minute)
	w.Update(c1(0, 1, true))
	w.Update(c1(4, 1, false))
	want := Gap{From: base + int64(Minute), To: base + 3*int64(Minute), Missing: 3}
	if got := w.LastGap(); got != want {
		t.Fatalf("LastGap() = %+v; want %+v", got, want)
	}
	w.Update(c1(2, 1, true)) // a fill does not rewrite history
	if got := w.LastGap(); got != want {
		t.Fatalf("LastGap() after fill = %+v; want %+v", got, want)
	}
	if got := w.Gaps(); got != 2 {
		t.Fatalf("Gaps() after fill = %d; want 2", got)
	}
	w.Update(c1(5, 1, false))
	if got := w.LastGap(); got != (Gap{}) {
		t.Fatalf("LastGap() after contiguous append = %+v; want zero", got)
	}
}

func TestMonthGaps(t *testing.T) {
	// 2024-01-01, 2024-02-01 (31 days later), 2024-05-01: Feb to May skips
	// March and April.
	jan, feb, mar, apr, may := int64(1704067200000), int64(1706745600000), int64(1709251200000), int64(1711929600000), int64(1714521600000)
	mk := func(s int64) Candle { return Candle{Start: s, End: Month.End(s), Open: 1, High: 1, Low: 1, Close: 1} }
	w := NewWindow(5, Month)
	for _, s := range []int64{jan, feb, may} {
		if o := w.Update(mk(s)); o != Appended {
			t.Fatalf("Update(%d) = %v; want Appended", s, o)
		}
	}
	if got, want := w.LastGap(), (Gap{From: mar, To: apr, Missing: 2}); got != want {
		t.Fatalf("LastGap() = %+v; want %+v", got, want)
	}
	if o := w.Update(mk(apr)); o != Inserted {
		t.Fatalf("Update(apr) = %v; want Inserted", o)
	}
	if got := w.Gaps(); got != 1 {
		t.Fatalf("Gaps() = %d; want 1", got)
	}
	if o := w.Update(mk(feb + 30*int64(Day))); o != Rejected {
		t.Fatalf("Update(feb + 30 days) = %v; want Rejected", o)
	}
}

func TestLast(t *testing.T) {
	w := NewWindow(4, Minute)
	for m := range int64(6) { // wraps the ring
		w.Update(c1(m, m, false))
	}
	f := func(n int, want []int64) {
		t.Helper()
		prefix := []Candle{{Start: -1}}
		got := w.Last(prefix, n)
		if got[0].Start != -1 {
			t.Fatalf("Last(dst, %d) overwrote dst[0]", n)
		}
		var mins []int64
		for _, c := range got[1:] {
			mins = append(mins, (c.Start-base)/int64(Minute))
		}
		if !slices.Equal(mins, want) {
			t.Fatalf("Last(dst, %d) = %v; want %v", n, mins, want)
		}
	}
	f(-1, nil)
	f(0, nil)
	f(1, []int64{5})
	f(3, []int64{3, 4, 5})
	f(4, []int64{2, 3, 4, 5})
	f(9, []int64{2, 3, 4, 5})
	if _, ok := w.At(4); ok {
		t.Fatalf("At(4) ok = true; want false")
	}
	if _, ok := w.At(-1); ok {
		t.Fatalf("At(-1) ok = true; want false")
	}
	w.Reset()
	if _, ok := w.Newest(); ok || w.Len() != 0 || w.Cap() != 4 {
		t.Fatalf("after Reset: Newest ok %v Len %d Cap %d; want false 0 4", ok, w.Len(), w.Cap())
	}
	if got := w.Count(Appended); got != 6 {
		t.Fatalf("Count(Appended) after Reset = %d; want 6 (counters survive Reset)", got)
	}
}

func TestLoad(t *testing.T) {
	hist := func(mins ...int64) []Candle {
		var h []Candle
		for _, m := range mins {
			c := c1(m, 100+m, true)
			c.End = 0 // REST rows carry no end
			h = append(h, c)
		}
		return h
	}
	tests := []struct {
		name    string
		cap     int
		held    []Candle
		history []Candle
		want    []int64
		gaps    int64
	}{
		{"empty window", 5, nil, hist(4, 3, 2, 1, 0), []int64{0, 1, 2, 3, 4}, 0},
		{"more history than room", 3, nil, hist(4, 3, 2, 1, 0), []int64{2, 3, 4}, 0},
		{"keeps newer stream candles", 5, []Candle{c1(5, 1, false), c1(6, 1, false)}, hist(4, 3, 2), []int64{2, 3, 4, 5, 6}, 0},
		{"fills a gap", 6, []Candle{c1(0, 1, true), c1(1, 1, true), c1(5, 1, false)}, hist(4, 3, 2), []int64{0, 1, 2, 3, 4, 5}, 0},
		{"overlap on a full window", 3, []Candle{c1(2, 1, true), c1(3, 1, false), c1(4, 1, false)}, hist(6, 4, 3), []int64{3, 4, 6}, 1},
		{"history all too old", 2, []Candle{c1(8, 1, false), c1(9, 1, false)}, hist(3, 2), []int64{8, 9}, 0},
		{"empty history", 3, []Candle{c1(8, 1, false)}, nil, []int64{8}, 0},
		{"nothing at all", 3, nil, nil, nil, 0},
		{"hole in history", 4, nil, hist(5, 2, 1), []int64{1, 2, 5}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWindow(tt.cap, Minute)
			for _, c := range tt.held {
				w.Update(c)
			}
			before := w.Count(Appended)
			if err := w.Load(tt.history); err != nil {
				t.Fatalf("Load: %v; want nil", err)
			}
			if got := starts(w); !slices.Equal(got, tt.want) {
				t.Fatalf("starts %v; want %v", got, tt.want)
			}
			if got := w.Gaps(); got != tt.gaps {
				t.Fatalf("Gaps() = %d; want %d", got, tt.gaps)
			}
			for _, c := range w.Last(nil, w.Len()) {
				if c.End != c.Start+int64(Minute)-1 {
					t.Fatalf("candle %d End = %d; want %d", c.Start, c.End, c.Start+int64(Minute)-1)
				}
			}
			if w.Count(Appended) != before {
				t.Fatalf("Load changed Count(Appended); want counters for Update only")
			}
		})
	}
}

func TestLoadConfirmRule(t *testing.T) {
	w := NewWindow(3, Minute)
	w.Update(c1(0, 10, true))
	w.Update(c1(1, 10, false))
	if err := w.Load([]Candle{c1(1, 20, false), c1(0, 20, false)}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := w.Last(nil, 2)
	if got[0].Close != 10 || !got[0].Confirm {
		t.Fatalf("confirmed candle after unconfirmed row: close %d confirmed %v; want 10 true", got[0].Close, got[0].Confirm)
	}
	if got[1].Close != 20 {
		t.Fatalf("unconfirmed candle after row: close %d; want 20", got[1].Close)
	}
}

func TestLoadErrors(t *testing.T) {
	bad := c1(1, 10, true)
	bad.High, bad.Low = 1, 2
	tests := []struct {
		name    string
		history []Candle
		want    error
	}{
		{"oldest first", []Candle{c1(1, 10, true), c1(2, 10, true)}, ErrOrder},
		{"duplicate", []Candle{c1(2, 10, true), c1(2, 10, true)}, ErrOrder},
		{"bad row", []Candle{c1(2, 10, true), bad}, ErrHighLow},
		{"unaligned", []Candle{{Start: base + 7, End: base + 7}}, ErrUnaligned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWindow(4, Minute)
			w.Update(c1(0, 1, false))
			err := w.Load(tt.history)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load error %v; want %v", err, tt.want)
			}
			if got := starts(w); !slices.Equal(got, []int64{0}) {
				t.Fatalf("window after failed Load: %v; want [0] unchanged", got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := c1(0, 10, false)
	ok.Low, ok.High, ok.Volume, ok.Turnover = 5, 20, 0, 0
	f := func(name string, iv Interval, mod func(*Candle), want error) {
		t.Helper()
		c := ok
		if iv == Month || iv == Week {
			c.End = iv.End(c.Start)
		}
		mod(&c)
		if got := Validate(iv, c); got != want {
			t.Fatalf("%s: Validate = %v; want %v", name, got, want)
		}
	}
	f("ok", Minute, func(*Candle) {}, nil)
	f("ok week", Week, func(*Candle) {}, nil)
	f("ok month", Month, func(*Candle) {}, nil)
	f("short end", Minute, func(c *Candle) { c.End = c.Start }, nil)
	f("open at bounds", Minute, func(c *Candle) { c.Open, c.Close = c.Low, c.High }, nil)
	f("negative start", Minute, func(c *Candle) { c.Start, c.End = -int64(Minute), -1 }, ErrRange)
	f("beyond MaxTime", Minute, func(c *Candle) { c.Start = MaxTime }, ErrRange)
	f("unaligned", Minute, func(c *Candle) { c.Start += 1000 }, ErrUnaligned)
	f("5m into 1m-aligned hour window", Hour, func(c *Candle) { c.Start += 5 * int64(Minute) }, ErrUnaligned)
	f("sunday week", Week, func(c *Candle) { c.Start -= int64(Day) }, ErrUnaligned)
	f("month mid", Month, func(c *Candle) { c.Start += int64(Day) }, ErrUnaligned)
	f("end before start", Minute, func(c *Candle) { c.End = c.Start - 1 }, ErrEnd)
	f("end of a longer interval", Minute, func(c *Candle) { c.End = c.Start + 5*int64(Minute) - 1 }, ErrEnd)
	f("end past month", Month, func(c *Candle) { c.End++ }, ErrEnd)
	f("high below low", Minute, func(c *Candle) { c.High = 4 }, ErrHighLow)
	f("open above high", Minute, func(c *Candle) { c.Open = 21 }, ErrOpenClose)
	f("close below low", Minute, func(c *Candle) { c.Close = 4 }, ErrOpenClose)
	f("negative volume", Minute, func(c *Candle) { c.Volume = -1 }, ErrNegative)
	f("negative turnover", Minute, func(c *Candle) { c.Turnover = -1 }, ErrNegative)
}

func TestNewWindowPanics(t *testing.T) {
	f := func(capacity int, iv Interval, want string) {
		t.Helper()
		defer func() {
			t.Helper()
			r := recover()
			if s, _ := r.(string); !strings.Contains(s, want) {
				t.Fatalf("NewWindow(%d, %d) panic %v; want one containing %q", capacity, iv, r, want)
			}
		}()
		NewWindow(capacity, iv)
	}
	f(0, Minute, "capacity 0")
	f(-3, Minute, "capacity -3")
	f(10, 0, "interval 0")
	f(10, 120_000, "interval 120000")
}

func TestOutcomeString(t *testing.T) {
	for o := range Outcome(NumOutcomes) {
		if s := o.String(); s == "" || strings.ContainsAny(s, " (") {
			t.Fatalf("Outcome(%d).String() = %q; want a snake-case name", o, s)
		}
	}
	if got, want := Outcome(NumOutcomes).String(), fmt.Sprintf("Outcome(%d)", NumOutcomes); got != want {
		t.Fatalf("String() = %q; want %q", got, want)
	}
}
