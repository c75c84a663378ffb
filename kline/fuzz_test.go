package kline

import (
	"fmt"
	"testing"
	"time"
)

func FuzzParseInterval(f *testing.F) {
	for _, tt := range allIntervals {
		f.Add(tt.code)
	}
	for _, s := range []string{"", "2", "1D", "m", "\x00", "7200", "MM"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		iv, err := ParseInterval(code)
		if err != nil {
			if iv != 0 || err != ErrInterval {
				t.Fatalf("ParseInterval(%q) = %d, %v; want 0, ErrInterval", code, iv, err)
			}
			return
		}
		if !iv.Valid() || iv.String() != code {
			t.Fatalf("ParseInterval(%q) = %v (valid %v); want a valid interval with that code", code, iv, iv.Valid())
		}
	})
}

// FuzzInterval checks the interval arithmetic on arbitrary times in
// [0, MaxTime) against its own invariants and, for months, the time package.
func FuzzInterval(f *testing.F) {
	f.Add(int64(0), uint8(12), int64(1))
	f.Add(base, uint8(11), int64(-3))
	f.Add(MaxTime-1, uint8(12), int64(-5))
	f.Add(int64(951782400000), uint8(12), int64(12)) // 2000-02-29
	f.Fuzz(func(t *testing.T, ts int64, which uint8, n int64) {
		iv := allIntervals[int(which)%len(allIntervals)].iv
		ts = floorMod(ts, MaxTime-int64(Week)*60) // leave room for n months after
		n = floorMod(n, 41) - 20
		fl := iv.Floor(ts)
		if fl > ts || ts > iv.End(ts) || !iv.Aligned(fl) || iv.End(ts) != iv.End(fl) {
			t.Fatalf("%v at %d: Floor %d, End %d, Aligned(Floor) %v", iv, ts, fl, iv.End(ts), iv.Aligned(fl))
		}
		next := iv.Add(ts, n)
		if !iv.Aligned(next) || iv.Steps(ts, next) != n || iv.Add(next, -n) != fl {
			t.Fatalf("%v: Add(%d, %d) = %d; Steps back %d, Add back %d; want aligned, %d, %d",
				iv, ts, n, next, iv.Steps(ts, next), iv.Add(next, -n), n, fl)
		}
		if iv == Month {
			tm := time.UnixMilli(ts).UTC()
			want := time.Date(tm.Year(), tm.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
			if fl != want {
				t.Fatalf("Month.Floor(%d) = %d; want %d", ts, fl, want)
			}
		}
	})
}

// FuzzUpdate drives a window and the reference model with operations decoded
// from the input, as hostile stream and REST data would: every candle the
// fuzzer makes, valid or not, must leave the window equal to the newest Cap
// candles of the reference.
func FuzzUpdate(f *testing.F) {
	f.Add(uint8(3), uint8(0), []byte{0, 0, 0, 0, 1, 0, 0, 5, 1, 1, 2, 0, 0, 3, 3})
	f.Add(uint8(1), uint8(12), []byte{0, 0, 1, 0, 9, 0, 1, 4, 2, 2, 0, 8, 7, 6, 5})
	f.Add(uint8(5), uint8(11), []byte{3, 6, 0, 0, 2, 0, 3, 1, 2, 0, 0, 7, 3, 3, 1})
	f.Fuzz(func(t *testing.T, capacity, which uint8, ops []byte) {
		iv := allIntervals[int(which)%len(allIntervals)].iv
		capN := 1 + int(capacity)%40
		w := NewWindow(capN, iv)
		r := newRef(iv, capN)
		g := &gen{iv: iv}
		for i := 0; i+2 < len(ops) && i < 3*500; i += 3 {
			op, off, flags := ops[i], int(ops[i+1]), ops[i+2]
			start := refNext(iv, base, off%64-16)
			name := fmt.Sprintf("op %d (%d %d %d)", i/3, op, off, flags)
			switch op % 4 {
			case 0, 1:
				c := fuzzCandle(g, start, flags)
				want := r.update(c)
				if got := w.Update(c); got != want {
					t.Fatalf("%s: Update(%+v) = %v; want %v", name, c, got, want)
				}
			case 2:
				// A newest-first page of 1+flags%8 rows from start down,
				// skipping a row when flags says so.
				var h []Candle
				for k := range 1 + int(flags%8) {
					if flags&0x80 != 0 && k == 1 {
						continue
					}
					c := fuzzCandle(g, refNext(iv, start, -k), flags&0x40)
					if flags&0x20 != 0 {
						c.End = 0
					}
					h = append(h, c)
				}
				if err := w.Load(h); err != nil {
					t.Fatalf("%s: Load(%v) = %v; want nil", name, h, err)
				}
				r.load(h)
			default:
				if flags == 0 {
					w.Reset()
					r.reset()
				}
			}
			r.check(t, w, name)
		}
	})
}

// fuzzCandle makes a candle at start from flag bits: bit 0 confirmed, bits
// 1-3 pick a way to break it (0-1 keep it valid).
func fuzzCandle(g *gen, start int64, flags uint8) Candle {
	low := 1000 + int64(flags)
	c := Candle{Start: start, End: refNext(g.iv, start, 1) - 1, Open: low, High: low + 5, Low: low, Close: low + 5,
		Confirm: flags&1 != 0}
	switch flags >> 1 & 7 {
	case 2:
		c.Start++
	case 3:
		c.End = c.Start - 1
	case 4:
		c.End++
	case 5:
		c.High = c.Low - 1
	case 6:
		c.Volume = -1
	}
	return c
}
