package kline

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var allIntervals = []struct {
	code string
	iv   Interval
	ms   int64
}{
	{"1", Minute, 60_000},
	{"3", Minute3, 180_000},
	{"5", Minute5, 300_000},
	{"15", Minute15, 900_000},
	{"30", Minute30, 1_800_000},
	{"60", Hour, 3_600_000},
	{"120", Hour2, 7_200_000},
	{"240", Hour4, 14_400_000},
	{"360", Hour6, 21_600_000},
	{"720", Hour12, 43_200_000},
	{"D", Day, 86_400_000},
	{"W", Week, 604_800_000},
	{"M", Month, -1},
}

func TestParseInterval(t *testing.T) {
	for _, tt := range allIntervals {
		iv, err := ParseInterval(tt.code)
		if err != nil || iv != tt.iv || int64(iv) != tt.ms {
			t.Fatalf("ParseInterval(%q) = %d, %v; want %d, nil", tt.code, iv, err, tt.ms)
		}
		if got := iv.String(); got != tt.code {
			t.Fatalf("Interval(%d).String() = %q; want %q", iv, got, tt.code)
		}
		if !iv.Valid() {
			t.Fatalf("Interval(%d).Valid() = false; want true", iv)
		}
	}
	// The table's order is Bybit's (shortest first) and Index, IntervalAt
	// and Codes agree with it.
	codes := Codes()
	if len(codes) != NumIntervals || len(allIntervals) != NumIntervals {
		t.Fatalf("Codes() has %d codes; want %d", len(codes), NumIntervals)
	}
	for i, tt := range allIntervals {
		if codes[i] != tt.code || tt.iv.Index() != i || IntervalAt(i) != tt.iv {
			t.Fatalf("index %d: Codes %q, Index %d, IntervalAt %d; want %q, %d, %d", i, codes[i], tt.iv.Index(), IntervalAt(i), tt.code, i, tt.iv)
		}
	}
	if IntervalAt(-1) != 0 || IntervalAt(NumIntervals) != 0 || Interval(120_000).Index() != -1 {
		t.Fatal("out-of-range IntervalAt or Index of a non-Bybit interval: want 0 and -1")
	}
	for _, code := range []string{"", "0", "2", "d", "w", "m", "1D", "60 ", " 1", "1m", "1440", "Y", "MM"} {
		if iv, err := ParseInterval(code); err != ErrInterval {
			t.Fatalf("ParseInterval(%q) = %d, %v; want 0, ErrInterval", code, iv, err)
		}
	}
	for _, iv := range []Interval{0, -2, 1, 120_000, Day * 2} {
		if iv.Valid() {
			t.Fatalf("Interval(%d).Valid() = true; want false", iv)
		}
	}
	if got := Interval(120_000).String(); got != "Interval(120000)" {
		t.Fatalf("String() = %q; want %q", got, "Interval(120000)")
	}
}

// TestIntervalAgainstTime checks the calendar and fixed arithmetic against
// the time package over random times from 1970 to 2400.
func TestIntervalAgainstTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	limit := time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for _, tt := range allIntervals {
		iv := tt.iv
		for range 3000 {
			ts := rng.Int64N(limit)
			tm := time.UnixMilli(ts).UTC()
			var want time.Time
			switch iv {
			case Month:
				want = time.Date(tm.Year(), tm.Month(), 1, 0, 0, 0, 0, time.UTC)
			case Week:
				d := time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC)
				want = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) // back to Monday
			default:
				want = tm.Truncate(time.Duration(iv) * time.Millisecond)
			}
			fl := iv.Floor(ts)
			if fl != want.UnixMilli() {
				t.Fatalf("%v.Floor(%d) = %v; want %v", iv, ts, time.UnixMilli(fl).UTC(), want)
			}
			if !iv.Aligned(fl) || (ts != fl && iv.Aligned(ts)) {
				t.Fatalf("%v.Aligned wrong at %d (floor %d)", iv, ts, fl)
			}
			n := rng.Int64N(40) - 20
			var wantAdd time.Time
			if iv == Month {
				wantAdd = want.AddDate(0, int(n), 0)
			} else {
				wantAdd = want.Add(time.Duration(n*int64(iv)) * time.Millisecond)
			}
			if got := iv.Add(ts, n); got != wantAdd.UnixMilli() {
				t.Fatalf("%v.Add(%d, %d) = %v; want %v", iv, ts, n, time.UnixMilli(got).UTC(), wantAdd)
			}
			if got := iv.Steps(ts, iv.Add(ts, n)); got != n {
				t.Fatalf("%v.Steps(t, Add(t, %d)) = %d; want %d", iv, n, got, n)
			}
			if got := iv.steps(fl, iv.Add(ts, n)); got != n {
				t.Fatalf("%v.steps(floor, Add(t, %d)) = %d; want %d", iv, n, got, n)
			}
			if got := iv.End(ts); got != iv.Add(ts, 1)-1 || got < ts {
				t.Fatalf("%v.End(%d) = %d; want the next start - 1, >= t", iv, ts, got)
			}
		}
	}
}

func TestIntervalFixedPoints(t *testing.T) {
	ms := func(y int, m time.Month, d, h int) int64 { return time.Date(y, m, d, h, 0, 0, 0, time.UTC).UnixMilli() }
	f := func(name string, got, want int64) {
		t.Helper()
		if got != want {
			t.Fatalf("%s = %d (%v); want %d (%v)", name, got, time.UnixMilli(got).UTC(), want, time.UnixMilli(want).UTC())
		}
	}
	f("Month.Floor(2024-02-29 13h)", Month.Floor(ms(2024, 2, 29, 13)), ms(2024, 2, 1, 0))
	f("Month.End(2024-02-01)", Month.End(ms(2024, 2, 1, 0)), ms(2024, 3, 1, 0)-1)
	f("Month.End(2023-02-01)", Month.End(ms(2023, 2, 1, 0)), ms(2023, 3, 1, 0)-1)
	f("Month.End(2100-02-01)", Month.End(ms(2100, 2, 1, 0)), ms(2100, 3, 1, 0)-1)
	f("Month.Add(2024-12-01, 1)", Month.Add(ms(2024, 12, 1, 0), 1), ms(2025, 1, 1, 0))
	f("Month.Add(2024-01-01, -1)", Month.Add(ms(2024, 1, 1, 0), -1), ms(2023, 12, 1, 0))
	f("Month.Steps(2023-11, 2024-02)", Month.Steps(ms(2023, 11, 1, 0), ms(2024, 2, 1, 0)), 3)
	f("Week.Floor(2024-01-07 Sun)", Week.Floor(ms(2024, 1, 7, 23)), ms(2024, 1, 1, 0))
	f("Week.Floor(1970-01-01 Thu)", Week.Floor(0), ms(1969, 12, 29, 0))
	f("Day.Floor(-1)", Day.Floor(-1), -int64(Day))
	f("Hour4.Floor(2024-01-01 07h)", Hour4.Floor(ms(2024, 1, 1, 7)), ms(2024, 1, 1, 4))
	f("Month.Floor(-1)", Month.Floor(-1), ms(1969, 12, 1, 0))
}

func TestIntervalInvalidPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatalf("Interval(0).Floor did not panic; want a panic naming the interval")
		}
	}()
	Interval(0).Floor(1)
}

// TestBybitDocsFrame checks the interval helpers against the kline frame
// in Bybit's documentation (shared test data; skipped when absent).
func TestBybitDocsFrame(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "testdata", "bybit", "linear-kline5-BTCUSDT-docs-example.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	var frame struct {
		Data []struct {
			Start, End int64
			Interval   string
			Confirm    bool
		}
	}
	if err := json.Unmarshal(raw, &frame); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if len(frame.Data) == 0 {
		t.Fatalf("%s: no candles", path)
	}
	for _, d := range frame.Data {
		iv, err := ParseInterval(d.Interval)
		if err != nil {
			t.Fatalf("ParseInterval(%q): %v", d.Interval, err)
		}
		if !iv.Aligned(d.Start) {
			t.Fatalf("start %d not aligned to %v", d.Start, iv)
		}
		if got := iv.End(d.Start); got != d.End {
			t.Fatalf("%v.End(%d) = %d; want Bybit's end %d", iv, d.Start, got, d.End)
		}
		c := Candle{Start: d.Start, End: d.End, Confirm: d.Confirm}
		if err := Validate(iv, c); err != nil {
			t.Fatalf("Validate(Bybit candle) = %v; want nil", err)
		}
	}
}
