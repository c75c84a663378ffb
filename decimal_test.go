package ringfeed

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestDecimalString(t *testing.T) {
	f := func(v int64, scale int, want string, wantF float64) {
		t.Helper()
		d := NewDecimal(v, scale)
		if got := d.String(); got != want {
			t.Errorf("NewDecimal(%d, %d).String() = %q; want %q", v, scale, got, want)
		}
		if got := d.Float64(); got != wantF {
			t.Errorf("NewDecimal(%d, %d).Float64() = %v; want %v", v, scale, got, wantF)
		}
		b, err := json.Marshal(d)
		if err != nil || string(b) != strconv.Quote(want) {
			t.Errorf("json.Marshal(%v) = %s, %v; want %q", d, b, err, want)
		}
	}
	f(0, 0, "0", 0)
	f(650001, 1, "65000.1", 65000.1)
	f(6500010, 2, "65000.1", 65000.1)
	f(-5, 3, "-0.005", -0.005)
	f(3, 0, "3", 3)
	f(1, 18, "0.000000000000000001", 1e-18)
	f(math.MaxInt64, 0, "9223372036854775807", 9223372036854775807)
	f(math.MinInt64, 18, "-9.223372036854775808", -9.223372036854775808)
	if (Decimal{}).String() != "0" || !(Decimal{}).IsZero() {
		t.Error("zero Decimal: want 0")
	}
}

func TestDecimalScalePanics(t *testing.T) {
	for _, s := range []int{-1, 19} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewDecimal(1, %d): no panic", s)
				}
			}()
			NewDecimal(1, s)
		}()
	}
}

func TestDecimalCmp(t *testing.T) {
	f := func(a, b Decimal, want int) {
		t.Helper()
		if got := a.Cmp(b); got != want {
			t.Errorf("%v.Cmp(%v) = %d; want %d", a, b, got, want)
		}
		if got := b.Cmp(a); got != -want {
			t.Errorf("%v.Cmp(%v) = %d; want %d", b, a, got, -want)
		}
		if a.Less(b) != (want < 0) || a.Equal(b) != (want == 0) {
			t.Errorf("%v Less/Equal %v disagree with Cmp %d", a, b, want)
		}
	}
	f(NewDecimal(15, 1), NewDecimal(150, 2), 0)
	f(NewDecimal(15, 1), NewDecimal(151, 2), -1)
	f(NewDecimal(-15, 1), NewDecimal(-151, 2), 1)
	f(NewDecimal(0, 0), NewDecimal(0, 18), 0)
	f(NewDecimal(1, 0), NewDecimal(math.MaxInt64, 18), -1)                // 1 < 9.22…
	f(NewDecimal(math.MaxInt64, 0), NewDecimal(math.MaxInt64, 18), 1)     // scaling overflows
	f(NewDecimal(math.MinInt64, 0), NewDecimal(math.MinInt64, 18), -1)    // scaling overflows
	f(NewDecimal(-math.MaxInt64, 1), NewDecimal(math.MaxInt64, 2), -1)    // overflow, negative
	f(NewDecimal(math.MaxInt64/10, 0), NewDecimal(math.MaxInt64-7, 1), 0) // 922…580 × 10 == MaxInt64-7
}

// TestDecimalCmpRandom checks Cmp against math/big over random values and
// scales, overflow included.
func TestDecimalCmpRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	exact := func(d Decimal) *big.Rat {
		return new(big.Rat).SetFrac(big.NewInt(d.Value()), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale())), nil))
	}
	val := func() int64 {
		switch r.IntN(3) {
		case 0:
			return r.Int64N(2000) - 1000
		case 1:
			return int64(r.Uint64())
		}
		return r.Int64N(1e12) * int64(r.IntN(3)-1)
	}
	for range 20000 {
		a, b := NewDecimal(val(), r.IntN(19)), NewDecimal(val(), r.IntN(19))
		if got, want := a.Cmp(b), exact(a).Cmp(exact(b)); got != want {
			t.Fatalf("%v.Cmp(%v) = %d; want %d", a, b, got, want)
		}
	}
}

func BenchmarkDecimalCmp(b *testing.B) {
	b.ReportAllocs()
	x, y := NewDecimal(6500010, 2), NewDecimal(650001, 1)
	n := 0
	for b.Loop() {
		n += x.Cmp(y)
	}
	_ = n
}

func TestDecimalUnmarshalText(t *testing.T) {
	f := func(in string, want Decimal, ok bool) {
		t.Helper()
		var d Decimal
		err := d.UnmarshalText([]byte(in))
		if (err == nil) != ok || ok && d != want {
			t.Errorf("UnmarshalText(%q) = %v (value %d scale %d), %v; want %v, ok=%v", in, d, d.Value(), d.Scale(), err, want, ok)
		}
	}
	f("65000.10", NewDecimal(6500010, 2), true)
	f("-0.5", NewDecimal(-5, 1), true)
	f("3", NewDecimal(3, 0), true)
	f("0.000000000000000001", NewDecimal(1, 18), true)
	f("0.0000000000000000001", Decimal{}, false) // 19 decimals
	f("1e5", Decimal{}, false)
	f("", Decimal{}, false)
	f("abc", Decimal{}, false)
	// Round trip through JSON.
	var v struct{ P Decimal }
	if err := json.Unmarshal([]byte(`{"P":"12.340"}`), &v); err != nil || v.P.String() != "12.34" || v.P.Scale() != 3 {
		t.Errorf("json round trip: %v %v", v.P, err)
	}
}
