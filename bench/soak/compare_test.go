package main

import (
	"testing"

	"github.com/ringfeed/ringfeed"
)

func TestDecEqual(t *testing.T) {
	f := func(a, b string, want bool) {
		t.Helper()
		if got := decEqual(a, b); got != want {
			t.Errorf("decEqual(%q, %q): got %v; want %v", a, b, got, want)
		}
		if got := decEqual(b, a); got != want {
			t.Errorf("decEqual(%q, %q): got %v; want %v", b, a, got, want)
		}
	}
	f("65000.10", "65000.1", true)
	f("65000.10", "65000.10", true)
	f("65000", "65000.000", true)
	f("0.50", ".5", true)
	f("007", "7", true)
	f("-0", "0", true)
	f("-0.00", "0", true)
	f("+1.5", "1.5", true)
	f("-1.5", "1.5", false)
	f("65000.1", "65000.01", false)
	f("1", "10", false)
	f("", "", false)
	f(".", "0", false)
	f("1e3", "1000", false)
	f("PlusTick", "PlusTick", false)
	f("1.2.3", "1.2.3", false)
}

func TestValueEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"PlusTick", "PlusTick", true},
		{"PlusTick", "MinusTick", false},
		{"", "", true},
		{"0.000016", "0.0000160", true},
		{"", "0", false},
	} {
		if got := valueEqual(c.a, c.b); got != c.want {
			t.Errorf("valueEqual(%q, %q): got %v; want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestLevelsDiff(t *testing.T) {
	want := [][2]string{{"65000.10", "1.500"}, {"64999.9", "2"}}
	for _, c := range []struct {
		name string
		got  [][2]string
		ok   bool
	}{
		{"equal by value", [][2]string{{"65000.1", "1.5"}, {"64999.90", "2.0"}}, true},
		{"short", [][2]string{{"65000.1", "1.5"}}, false},
		{"size differs", [][2]string{{"65000.1", "1.5"}, {"64999.9", "2.1"}}, false},
		{"order differs", [][2]string{{"64999.9", "2"}, {"65000.1", "1.5"}}, false},
	} {
		if d := levelsDiff("bid", c.got, want); (d == "") != c.ok {
			t.Errorf("%s: got diff %q; want ok=%v", c.name, d, c.ok)
		}
	}
}

func TestCandleDiff(t *testing.T) {
	d := func(v int64, scale int) ringfeed.Decimal { return ringfeed.NewDecimal(v, scale) }
	c := ringfeed.CandleView{Start: 60000, End: 119999, Open: d(10, 1), High: d(2, 0), Low: d(5, 1), Close: d(150, 2), Volume: d(3, 0), Turnover: d(45, 1), Confirm: true}
	if d := candleDiff(c, 60000, 119999, "1", "2.0", "0.50", "1.5", "3.000", "4.50", true); d != "" {
		t.Errorf("equal candle: got diff %q; want none", d)
	}
	for name, d := range map[string]string{
		"start":   candleDiff(c, 0, 119999, "1", "2", "0.5", "1.5", "3", "4.5", true),
		"confirm": candleDiff(c, 60000, 119999, "1", "2", "0.5", "1.5", "3", "4.5", false),
		"close":   candleDiff(c, 60000, 119999, "1", "2", "0.5", "1.6", "3", "4.5", true),
	} {
		if d == "" {
			t.Errorf("%s differs: got no diff; want one", name)
		}
	}
}
