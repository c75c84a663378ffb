package parse

import (
	"math"
	"math/bits"
)

// MaxScale is the largest supported number of decimals: 10^18 is the largest
// power of ten that fits in an int64.
const MaxScale = 18

var pow10 = [MaxScale + 1]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
}

// ParseDecimal converts a decimal string such as "-0.00008055" into an int64
// holding the value times 10^scale. The conversion is exact or it fails:
//
//   - ErrEmpty: b is empty;
//   - ErrSign: a leading '+' (only '-' is accepted);
//   - ErrExponent: 'e' or 'E' notation;
//   - ErrSyntax: anything but digits with at most one '.' that has a digit on
//     both sides (so "5." and ".5" are rejected), spaces, "NaN", …;
//   - ErrPrecision: a non-zero digit beyond scale decimals ("1.25" at
//     scale 1); zeros beyond the scale are exact and accepted ("1.20" at
//     scale 1 is 12), because Bybit pads some fields (inverse volume24h
//     "391976479.0000") beyond the instrument's scale;
//   - ErrRange: the magnitude does not fit in an int64;
//   - ErrScale: scale is outside [0, MaxScale].
//
// Syntax errors win over precision and range errors. Every byte is checked
// here: fastjson accepts numbers its own Validate rejects, so nothing
// upstream is trusted. It does not allocate.
func ParseDecimal(b []byte, scale int) (int64, error) {
	return parseDecimal(b, scale, true)
}

// ParseUDecimal is ParseDecimal for values that carry no sign (prices and
// sizes): any leading '-' or '+' is ErrSign.
func ParseUDecimal(b []byte, scale int) (int64, error) {
	return parseDecimal(b, scale, false)
}

func parseDecimal(b []byte, scale int, signed bool) (int64, error) {
	if uint(scale) > MaxScale {
		return 0, ErrScale
	}
	if len(b) == 0 {
		return 0, ErrEmpty
	}
	i := 0
	neg := false
	if c := b[0]; c == '-' || c == '+' {
		if c == '+' || !signed {
			return 0, ErrSign
		}
		neg = true
		i = 1
	}
	// Fast path: accumulate every digit; leading zeros add nothing, so
	// at most 19 digits in total cannot overflow a uint64. Longer inputs
	// are redone by parseLong. (Two accumulators for the integer and
	// fraction digits, and range loops, measured slower.)
	// scan.go's decAt repeats these digit loops on purpose, fused with
	// the search for the closing quote so that the single-pass parser
	// reads each digit once; FuzzFastMatchesTree holds the two equal.
	var v uint64
	start := i
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		v = v*10 + uint64(c)
	}
	nd := i - start
	if nd == 0 {
		return 0, badChar(b, i)
	}
	frac := 0
	lost := false // a non-zero digit beyond the scale
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for ; i < len(b); i++ {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			if frac < scale {
				v = v*10 + uint64(c)
				frac++
			} else if c != 0 {
				lost = true
			}
		}
		if i == fs {
			return 0, badChar(b, i)
		}
	}
	if i != len(b) {
		return 0, badChar(b, i)
	}
	if lost {
		return 0, ErrPrecision
	}
	if nd+frac > 19 {
		var ok bool
		if v, ok = parseLong(b[start:], scale); !ok {
			return 0, ErrRange
		}
	}
	hi, lo := bits.Mul64(v, pow10[scale-frac])
	if hi != 0 || lo > math.MaxInt64 {
		return 0, ErrRange
	}
	if neg {
		return -int64(lo), nil
	}
	return int64(lo), nil
}

// parseLong re-reads the digits of a syntactically valid unsigned decimal
// longer than 19 digits, skipping leading zeros, and reports whether the
// significant digits (up to scale decimals) fit 19 digits.
func parseLong(b []byte, scale int) (uint64, bool) {
	var v uint64
	sig, frac := 0, 0
	inFrac := false
	for _, c := range b {
		if c == '.' {
			inFrac = true
			continue
		}
		if inFrac {
			if frac == scale {
				break // the rest are zeros (checked by the caller)
			}
			frac++
		}
		if sig == 0 && c == '0' {
			continue
		}
		sig++
		if sig > 19 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// badChar classifies the byte at b[i] (or the end of b) that stopped a scan.
func badChar(b []byte, i int) error {
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		return ErrExponent
	}
	return ErrSyntax
}

// parseUint converts an unsigned JSON integer (ts, u, seq, …) given as its
// raw text. Exponents, fractions, signs and leading zeros ("01") are
// rejected, since Bybit never sends them and fastjson lets them through.
func parseUint(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, ErrEmpty
	}
	if b[0] == '-' || b[0] == '+' {
		return 0, ErrSign
	}
	if len(b) > 1 && b[0] == '0' {
		return 0, ErrSyntax
	}
	var v uint64
	for i, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, badChar(b, i)
		}
		if i >= 19 {
			return 0, ErrRange
		}
		v = v*10 + uint64(d)
	}
	if v > math.MaxInt64 {
		return 0, ErrRange
	}
	return int64(v), nil
}

// AppendDecimal appends the shortest exact decimal form of v/10^scale to dst
// and returns the extended slice: trailing fractional zeros are trimmed and
// the point is dropped when nothing follows it (1234500 at scale 4 is
// "123.45", 1230000 at scale 4 is "123"). The result is the same for equal
// values at different scales; ParseDecimal at the same scale reads it back.
// It does not allocate when dst has room (28 bytes always suffice).
//
// It panics if scale is outside [0, MaxScale]: that is a configuration bug.
func AppendDecimal(dst []byte, v int64, scale int) []byte {
	return appendDecimal(dst, v, scale, true)
}

// AppendDecimalFixed is AppendDecimal that keeps exactly scale decimals
// (1234500 at scale 4 is "123.4500"), as Bybit's linear books print prices.
func AppendDecimalFixed(dst []byte, v int64, scale int) []byte {
	return appendDecimal(dst, v, scale, false)
}

func appendDecimal(dst []byte, v int64, scale int, trim bool) []byte {
	if uint(scale) > MaxScale {
		panic("parse: AppendDecimal: scale out of range [0,18]: " + itoa(scale))
	}
	u := uint64(v)
	if v < 0 {
		dst = append(dst, '-')
		u = -u // two's complement: correct for math.MinInt64 too
	}
	var buf [20]byte // max uint64 has 20 digits
	n := len(buf)
	for u >= 10 {
		n--
		buf[n] = byte('0' + u%10)
		u /= 10
	}
	n--
	buf[n] = byte('0' + u)
	digits := buf[n:]
	if scale == 0 {
		return append(dst, digits...)
	}
	// Left-pad with zeros so there is at least one integer digit.
	intLen := len(digits) - scale
	if intLen <= 0 {
		dst = append(dst, '0')
	} else {
		dst = append(dst, digits[:intLen]...)
	}
	fracDigits := digits[max(intLen, 0):]
	zeros := max(-intLen, 0)
	if trim {
		end := len(fracDigits)
		for end > 0 && fracDigits[end-1] == '0' {
			end--
		}
		fracDigits = fracDigits[:end]
		if len(fracDigits) == 0 {
			return dst
		}
	}
	dst = append(dst, '.')
	for range zeros {
		dst = append(dst, '0')
	}
	return append(dst, fracDigits...)
}

// itoa formats small ints for panic and error messages without strconv.
func itoa(n int) string {
	return string(AppendDecimal(nil, int64(n), 0))
}
