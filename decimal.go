package ringfeed

import (
	"cmp"
	"errors"
	"math"
	"math/bits"
	"strconv"

	"github.com/ringfeed/ringfeed/parse"
)

// Decimal is an exact fixed-point number, Value × 10^-Scale: the int64 the
// engine keeps for a price, size or value together with its symbol's scale,
// so a hook or a state view can print or compare it without looking the
// scale up. The zero Decimal is 0.
//
// Equal numbers at different scales (1.5 at scale 1, 1.50 at scale 2)
// compare equal and print the same; == on two Decimals compares the
// representation, Cmp the number. Decimal is a small value type: methods
// other than String do not allocate.
type Decimal struct {
	value int64
	scale int8
}

// NewDecimal returns value × 10^-scale. It panics if scale is outside
// [0, parse.MaxScale] (18): scales come from the symbol table, so another
// one is a programming error.
func NewDecimal(value int64, scale int) Decimal {
	if scale < 0 || scale > parse.MaxScale {
		panic("ringfeed: NewDecimal: scale out of range")
	}
	return Decimal{value: value, scale: int8(scale)}
}

// Value returns the integer the Decimal scales.
func (d Decimal) Value() int64 { return d.value }

// Scale returns the number of decimals.
func (d Decimal) Scale() int { return int(d.scale) }

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.value == 0 }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	switch {
	case d.value < 0:
		return -1
	case d.value > 0:
		return 1
	}
	return 0
}

// String returns the shortest exact decimal form ("65000.1", "-0.005",
// "3"), the form the admin API prints.
func (d Decimal) String() string { return string(d.AppendTo(nil)) }

// AppendTo appends the String form to dst; it does not allocate when dst
// has room (28 bytes always suffice).
func (d Decimal) AppendTo(dst []byte) []byte {
	return parse.AppendDecimal(dst, d.value, int(d.scale))
}

// MarshalText returns the String form, so encoding/json writes a Decimal
// as a JSON string, the way Bybit writes numbers.
func (d Decimal) MarshalText() ([]byte, error) { return d.AppendTo(nil), nil }

// UnmarshalText reads a decimal string ("65000.10", "-0.5", "3") at the
// scale it is written with, so a client of the admin API can decode the
// views. It accepts at most parse.MaxScale decimals and no exponent.
func (d *Decimal) UnmarshalText(b []byte) error {
	s := string(b)
	scale := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			scale = len(s) - i - 1
			break
		}
	}
	if scale > parse.MaxScale {
		return errors.New("ringfeed: decimal " + strconv.Quote(s) + ": too many decimals")
	}
	v, err := parse.ParseDecimal(b, scale)
	if err != nil {
		return errors.New("ringfeed: decimal " + strconv.Quote(s) + ": " + err.Error())
	}
	*d = NewDecimal(v, scale)
	return nil
}

// Float64 returns the nearest float64 when |Value| ≤ 2^53 (one correctly
// rounded division); beyond that the result may be off by one unit in the
// last place. Prices and sizes are exact only as Decimals.
func (d Decimal) Float64() float64 {
	return float64(d.value) / pow10f[d.scale]
}

var pow10f = [parse.MaxScale + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

var pow10u = [parse.MaxScale + 1]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// Cmp compares the numbers d and o: -1 if d < o, 0 if equal, +1 if d > o,
// whatever their scales. It is exact (no float conversion).
func (d Decimal) Cmp(o Decimal) int {
	a, b := d.value, o.value
	switch {
	case d.scale < o.scale:
		s, ok := scaleUp(a, int(o.scale-d.scale))
		if !ok {
			// |a × 10^k| exceeds every int64, so it is beyond b.
			return d.Sign()
		}
		a = s
	case d.scale > o.scale:
		s, ok := scaleUp(b, int(d.scale-o.scale))
		if !ok {
			return -o.Sign()
		}
		b = s
	}
	return cmp.Compare(a, b)
}

// Less reports whether d < o (Cmp(o) < 0).
func (d Decimal) Less(o Decimal) bool { return d.Cmp(o) < 0 }

// Equal reports whether d and o are the same number (Cmp(o) == 0).
func (d Decimal) Equal(o Decimal) bool { return d.Cmp(o) == 0 }

// scaleUp returns v × 10^k and whether it fits an int64.
func scaleUp(v int64, k int) (int64, bool) {
	if v == 0 {
		return 0, true
	}
	if v == math.MinInt64 {
		return 0, false
	}
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	hi, lo := bits.Mul64(u, pow10u[k])
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(lo), true
	}
	return int64(lo), true
}
