package parse

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	f := func(in string, scale int, signed bool, want int64, wantErr error) {
		t.Helper()
		var got int64
		var err error
		if signed {
			got, err = ParseDecimal([]byte(in), scale)
		} else {
			got, err = ParseUDecimal([]byte(in), scale)
		}
		if !errors.Is(err, wantErr) || (err == nil && got != want) {
			t.Fatalf("Parse(%q, %d, signed %v): got %d, %v; want %d, %v", in, scale, signed, got, err, want, wantErr)
		}
	}
	// Exact values.
	f("109378.80", 2, false, 10937880, nil)
	f("109378.8", 2, false, 10937880, nil)
	f("75844", 2, false, 7584400, nil)
	f("0.00039", 8, false, 39000, nil)
	f("0", 0, false, 0, nil)
	f("0.0", 0, false, 0, nil)
	f("5823", 0, false, 5823, nil)
	f("007", 0, false, 7, nil)
	f("-0.00008055", 10, true, -805500, nil)
	f("-0", 4, true, 0, nil)
	f("391976479.0000", 0, false, 391976479, nil) // zeros beyond the scale are exact
	f("1.20", 1, false, 12, nil)
	f("0.416039541212402799", 18, false, 416039541212402799, nil)
	f("9223372036854775807", 0, true, math.MaxInt64, nil)
	f("-9223372036854775807", 0, true, -math.MaxInt64, nil)
	f("92233720368.54775807", 8, false, math.MaxInt64, nil)
	f("0000000000000000000000000001.5", 1, false, 15, nil) // long but small
	f("1.50000000000000000000000000", 1, false, 15, nil)
	// Too many decimals.
	f("1.25", 1, false, 0, ErrPrecision)
	f("0.000000001", 8, false, 0, ErrPrecision)
	f("1.0000000000000000000000001", 2, false, 0, ErrPrecision)
	// Overflow.
	f("9223372036854775808", 0, true, 0, ErrRange)
	f("92233720368.54775808", 8, false, 0, ErrRange)
	f("92233720369", 8, false, 0, ErrRange)
	f("99999999999999999999", 0, false, 0, ErrRange)
	f("100000000000000000000000", 0, false, 0, ErrRange)
	f("10", 18, false, 0, ErrRange)
	// Empty, sign, exponent, garbage.
	f("", 2, false, 0, ErrEmpty)
	f("", 2, true, 0, ErrEmpty)
	f("-1", 2, false, 0, ErrSign)
	f("+1", 2, true, 0, ErrSign)
	f("+1", 2, false, 0, ErrSign)
	f("1e5", 2, false, 0, ErrExponent)
	f("1.5E3", 2, false, 0, ErrExponent)
	f("1.2345e5", 2, false, 0, ErrExponent) // syntax wins over precision
	f("-", 2, true, 0, ErrSyntax)
	f("--1", 2, true, 0, ErrSyntax)
	f(".5", 2, false, 0, ErrSyntax)
	f("5.", 2, false, 0, ErrSyntax)
	f("1.2.3", 2, false, 0, ErrSyntax)
	f(" 1", 2, false, 0, ErrSyntax)
	f("1 ", 2, false, 0, ErrSyntax)
	f("NaN", 2, false, 0, ErrSyntax)
	f("Infinity", 2, false, 0, ErrSyntax)
	f("0x1F", 0, false, 0, ErrSyntax)
	f("1_000", 0, false, 0, ErrSyntax)
	f("１", 0, false, 0, ErrSyntax) // full-width digit
	f("1,5", 1, false, 0, ErrSyntax)
	f(`1\u0030`, 1, false, 0, ErrSyntax)
	// Scale.
	f("1", -1, false, 0, ErrScale)
	f("1", 19, false, 0, ErrScale)
}

func TestAppendDecimal(t *testing.T) {
	f := func(v int64, scale int, want, wantFixed string) {
		t.Helper()
		if got := string(AppendDecimal(nil, v, scale)); got != want {
			t.Fatalf("AppendDecimal(%d, %d): got %q; want %q", v, scale, got, want)
		}
		if got := string(AppendDecimalFixed(nil, v, scale)); got != wantFixed {
			t.Fatalf("AppendDecimalFixed(%d, %d): got %q; want %q", v, scale, got, wantFixed)
		}
	}
	f(10937880, 2, "109378.8", "109378.80")
	f(1234500, 4, "123.45", "123.4500")
	f(1230000, 4, "123", "123.0000")
	f(5, 4, "0.0005", "0.0005")
	f(0, 4, "0", "0.0000")
	f(0, 0, "0", "0")
	f(-800550, 10, "-0.000080055", "-0.0000800550")
	f(-5, 1, "-0.5", "-0.5")
	f(42, 0, "42", "42")
	f(math.MaxInt64, 18, "9.223372036854775807", "9.223372036854775807")
	f(math.MinInt64, 0, "-9223372036854775808", "-9223372036854775808")
	f(math.MinInt64, 18, "-9.223372036854775808", "-9.223372036854775808")
	f(1, 18, "0.000000000000000001", "0.000000000000000001")
	// Appends rather than overwrites.
	if got := string(AppendDecimal([]byte("p="), 15, 1)); got != "p=1.5" {
		t.Fatalf("got %q; want %q", got, "p=1.5")
	}
}

func TestAppendDecimalPanicsOnBadScale(t *testing.T) {
	for _, scale := range []int{-1, MaxScale + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("scale %d: got no panic; want one", scale)
				}
			}()
			AppendDecimal(nil, 1, scale)
		}()
	}
}

// TestDecimalRoundTrip checks, over random values and scales, that both
// formats parse back to the same value and agree with fmt-based
// formatting and the math/big oracle.
func TestDecimalRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 20000 {
		scale := rng.IntN(MaxScale + 1)
		var v int64
		switch i % 4 {
		case 0:
			v = rng.Int64()
		case 1:
			v = -rng.Int64()
		case 2:
			v = rng.Int64N(1_000_000)
		default:
			v = rng.Int64N(1 << 40)
		}
		for _, s := range []string{string(AppendDecimal(nil, v, scale)), string(AppendDecimalFixed(nil, v, scale))} {
			got, err := ParseDecimal([]byte(s), scale)
			if err != nil || got != v {
				t.Fatalf("ParseDecimal(%q, %d): got %d, %v; want %d", s, scale, got, err, v)
			}
			if o, ok := oracleDecimal(s, scale); !ok || o != v {
				t.Fatalf("oracle(%q, %d): got %d, %v; want %d", s, scale, o, ok, v)
			}
		}
		if v != math.MinInt64 {
			if got, want := string(AppendDecimalFixed(nil, v, scale)), fmtDec(v, scale, false); got != want {
				t.Fatalf("AppendDecimalFixed(%d, %d): got %q; want %q", v, scale, got, want)
			}
			if got, want := string(AppendDecimal(nil, v, scale)), fmtDec(v, scale, true); got != want {
				t.Fatalf("AppendDecimal(%d, %d): got %q; want %q", v, scale, got, want)
			}
		}
	}
}

func TestParseUint(t *testing.T) {
	f := func(in string, want int64, wantErr error) {
		t.Helper()
		got, err := parseUint([]byte(in))
		if !errors.Is(err, wantErr) || got != want {
			t.Fatalf("parseUint(%q): got %d, %v; want %d, %v", in, got, err, want, wantErr)
		}
	}
	f("0", 0, nil)
	f("1758845431663", 1758845431663, nil)
	f("9223372036854775807", math.MaxInt64, nil)
	f("9223372036854775808", 0, ErrRange)
	f("18446744073709551616", 0, ErrRange)
	f("", 0, ErrEmpty)
	f("-1", 0, ErrSign)
	f("+1", 0, ErrSign)
	f("01", 0, ErrSyntax)
	f("1.0", 0, ErrSyntax)
	f("1e3", 0, ErrExponent)
	f("NaN", 0, ErrSyntax)
}

func TestParseISOTime(t *testing.T) {
	f := func(in string, want int64, wantErr error) {
		t.Helper()
		got, err := parseISOTime([]byte(in))
		if !errors.Is(err, wantErr) || got != want {
			t.Fatalf("parseISOTime(%q): got %d, %v; want %d, %v", in, got, err, want, wantErr)
		}
	}
	f("2023-09-29T08:00:00Z", 1695974400000, nil)
	f("1970-01-01T00:00:00Z", 0, nil)
	f("2024-02-29T23:59:59.5Z", 1709251199500, nil)
	f("2024-03-01T00:00:00.123Z", 1709251200123, nil)
	f("2023-09-29 08:00:00Z", 0, ErrSyntax)
	f("2023-09-29T08:00:00", 0, ErrSyntax)
	f("2023-13-29T08:00:00Z", 0, ErrSyntax)
	f("2023-09-29T08:00:00.Z", 0, ErrSyntax)
	f("2023-09-29T08:00:00.1234Z", 0, ErrSyntax)
	f("2023-0x-29T08:00:00Z", 0, ErrSyntax)
}
