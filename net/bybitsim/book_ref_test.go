package bybitsim

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// localBook is the test's independent order book: maps of price string to
// size string, sorted with math/big only when compared.
type localBook struct {
	bids, asks     map[string]string
	u, seq         int64
	unknownDeletes int
}

func newLocalBook() *localBook {
	return &localBook{bids: map[string]string{}, asks: map[string]string{}}
}

func (lb *localBook) snapshot(d bookData) {
	lb.bids, lb.asks = map[string]string{}, map[string]string{}
	lb.apply(d)
}

func (lb *localBook) apply(d bookData) {
	set := func(m map[string]string, lv [][2]string) {
		for _, l := range lv {
			if l[1] == "0" {
				if _, ok := m[l[0]]; !ok {
					lb.unknownDeletes++
				}
				delete(m, l[0])
				continue
			}
			m[l[0]] = l[1]
		}
	}
	set(lb.bids, d.B)
	set(lb.asks, d.A)
	lb.u, lb.seq = d.U, d.Seq
}

// cmpDecimal compares two non-negative decimal strings numerically
// ("65000.1" > "64999.95", "75844" == "75844.00") with plain string
// operations: independent of the package's fixed-point code.
func cmpDecimal(a, b string) int {
	ai, af, _ := strings.Cut(a, ".")
	bi, bf, _ := strings.Cut(b, ".")
	ai, bi = strings.TrimLeft(ai, "0"), strings.TrimLeft(bi, "0")
	if len(ai) != len(bi) {
		return cmp.Compare(len(ai), len(bi))
	}
	if c := strings.Compare(ai, bi); c != 0 {
		return c
	}
	af, bf = strings.TrimRight(af, "0"), strings.TrimRight(bf, "0")
	return strings.Compare(af, bf) // equal-length prefixes compare digit by digit
}

// sortedLevels returns m best first: descending prices for bids.
func sortedLevels(m map[string]string, desc bool) [][2]string {
	out := make([][2]string, 0, len(m))
	for p, q := range m {
		out = append(out, [2]string{p, q})
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if desc {
			return cmpDecimal(b[0], a[0])
		}
		return cmpDecimal(a[0], b[0])
	})
	return out
}

func (lb *localBook) levels() (bids, asks [][2]string) {
	return sortedLevels(lb.bids, true), sortedLevels(lb.asks, false)
}

// crossed reports best bid >= best ask, by a linear scan.
func (lb *localBook) crossed() bool {
	var bb, ba string
	for p := range lb.bids {
		if bb == "" || cmpDecimal(p, bb) > 0 {
			bb = p
		}
	}
	for p := range lb.asks {
		if ba == "" || cmpDecimal(p, ba) < 0 {
			ba = p
		}
	}
	return bb != "" && ba != "" && cmpDecimal(bb, ba) >= 0
}

func decodeBook(t *testing.T, f frame) bookData {
	t.Helper()
	var d bookData
	err := json.Unmarshal(f.Data, &d)
	if err != nil {
		t.Fatalf("bad book data %s: %v", f.Data, err)
	}
	return d
}

// sameLevels compares two level lists.
func sameLevels(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkSorted fails unless lv is strictly ordered (best first).
func checkSorted(t *testing.T, lv [][2]string, desc bool, what string) {
	t.Helper()
	for i := 1; i < len(lv); i++ {
		c := cmpDecimal(lv[i-1][0], lv[i][0])
		if (desc && c <= 0) || (!desc && c >= 0) {
			t.Fatalf("%s not sorted at %d: %v then %v", what, i, lv[i-1], lv[i])
		}
	}
}

func TestCmpDecimal(t *testing.T) {
	f := func(a, b string, want int) {
		t.Helper()
		if got := cmpDecimal(a, b); got != want {
			t.Fatalf("cmpDecimal(%q, %q) = %d; want %d", a, b, got, want)
		}
	}
	f("1", "1", 0)
	f("1.0", "1", 0)
	f("75844", "75844.00", 0)
	f("65000.1", "64999.95", 1)
	f("0.0001", "0.001", -1)
	f("10", "9.99", 1)
	f("0.5", "0.50001", -1)
	f("100.2", "100.10", 1)
}
