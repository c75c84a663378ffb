package main

import (
	"bufio"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecEqual checks decEqual against math/big for plain decimals.
func FuzzDecEqual(f *testing.F) {
	for _, s := range [][2]string{{"65000.10", "65000.1"}, {"-0", "0"}, {".5", "0.50"}, {"1e3", "1000"}, {"", "0"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 64 || len(b) > 64 {
			return
		}
		got := decEqual(a, b)
		ra, oka := plainRat(a)
		rb, okb := plainRat(b)
		want := oka && okb && ra.Cmp(rb) == 0
		if got != want {
			t.Errorf("decEqual(%q, %q): got %v; want %v", a, b, got, want)
		}
	})
}

// plainRat parses an optionally signed decimal without exponent.
func plainRat(s string) (*big.Rat, bool) {
	t := strings.TrimLeft(s, "+-")
	if len(s)-len(t) > 1 || t == "" || t == "." || strings.ContainsAny(t, "eE/xXpP_") {
		return nil, false
	}
	for _, c := range t {
		if c != '.' && (c < '0' || c > '9') {
			return nil, false
		}
	}
	if strings.Count(t, ".") > 1 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// FuzzParseMetrics: any input either parses or fails with errMetricLine,
// and what parses survives being written back out and parsed again.
func FuzzParseMetrics(f *testing.F) {
	f.Add("x 1\n")
	f.Add(`a{b="c d"} 2 3` + "\n# c\n")
	f.Add("x{\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := parseMetrics(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, errMetricLine) && !errors.Is(err, bufio.ErrTooLong) {
				t.Fatalf("parseMetrics(%q): got %v; want errMetricLine", in, err)
			}
			return
		}
		var b strings.Builder
		for k, v := range m {
			if k == "" {
				t.Fatalf("empty series name from %q (value %v)", in, v)
			}
			b.WriteString(k + " " + strconv.FormatFloat(v, 'g', -1, 64) + "\n")
		}
		m2, err := parseMetrics(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b.String(), err)
		}
		if len(m2) != len(m) {
			t.Fatalf("re-parse: got %d series; want %d", len(m2), len(m))
		}
		for k, v := range m {
			if w, ok := m2[k]; !ok || w != v && !(math.IsNaN(v) && math.IsNaN(w)) {
				t.Errorf("re-parse %q: got %v, %v; want %v", k, w, ok, v)
			}
		}
	})
}
