package bybitsim

import (
	"strconv"
	"testing"
)

func TestAppendFixed(t *testing.T) {
	f := func(v int64, scale int, trim bool, want string) {
		t.Helper()
		if got := string(appendFixed([]byte("x"), v, scale, trim)); got != "x"+want {
			t.Fatalf("appendFixed(%d, %d, %v) = %q; want %q", v, scale, trim, got[1:], want)
		}
	}
	f(0, 0, false, "0")
	f(0, 2, false, "0.00")
	f(0, 2, true, "0")
	f(6500010, 2, false, "65000.10")
	f(6500010, 2, true, "65000.1")
	f(7584400, 2, true, "75844")
	f(39, 5, true, "0.00039")
	f(39, 5, false, "0.00039")
	f(20, 3, false, "0.020")
	f(5823, 0, true, "5823")
	f(-9772, 6, false, "-0.009772")
	f(-1, 8, true, "-0.00000001")
	f(1<<62, 18, false, "4.611686018427387904")
	f(-(1 << 63), 0, false, "-9223372036854775808")
}

func TestParseDecimal(t *testing.T) {
	f := func(s string, v int64, scale int, ok bool) {
		t.Helper()
		gv, gs, err := parseDecimal(s)
		if (err == nil) != ok || (ok && (gv != v || gs != scale)) {
			t.Fatalf("parseDecimal(%q) = %d, %d, %v; want %d, %d, ok=%v", s, gv, gs, err, v, scale, ok)
		}
	}
	f("0.10", 10, 2, true)
	f("5", 5, 0, true)
	f("0.000001", 1, 6, true)
	f("65000.00", 6500000, 2, true)
	f("", 0, 0, false)
	f("1.", 0, 0, false)
	f(".5", 0, 0, false)
	f("-1", 0, 0, false)
	f("1e3", 0, 0, false)
	f("1.2.3", 0, 0, false)
	f("99999999999999999999", 0, 0, false)
	if v, err := parseFixed("1.5", 3); v != 1500 || err != nil {
		t.Fatalf("parseFixed(1.5, 3) = %d, %v", v, err)
	}
	if _, err := parseFixed("1.2345", 3); err == nil {
		t.Fatalf("parseFixed rounds instead of rejecting")
	}
}

func TestAppendJSONString(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(appendJSONString(nil, in)); got != want {
			t.Fatalf("appendJSONString(%q) = %s; want %s", in, got, want)
		}
	}
	f("args size >10", `"args size \u003e10"`)
	f(`a"b\c`, `"a\"b\\c"`)
	f("<&>\n", `"\u003c\u0026\u003e\u000a"`)
	f("€", `"€"`)
}

// FuzzDecimal: whatever parses formats back to the same number.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0.10", "65000.00", "5", "0.000001", "1.", "x", "007.50"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, scale, err := parseDecimal(s)
		if err != nil {
			return
		}
		out := string(appendFixed(nil, v, scale, false))
		v2, scale2, err := parseDecimal(out)
		if err != nil || v2 != v || scale2 != scale {
			t.Fatalf("%q -> %d/%d -> %q -> %d/%d, %v", s, v, scale, out, v2, scale2, err)
		}
		if tr := string(appendFixed(nil, v, scale, true)); tr != "0" {
			if _, err := strconv.ParseFloat(tr, 64); err != nil || tr[len(tr)-1] == '.' {
				t.Fatalf("trimmed %q", tr)
			}
		}
	})
}
