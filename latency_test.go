package ringfeed

import (
	"strings"
	"testing"
)

// Values land in the first bucket whose bound they do not exceed; the
// exposition is cumulative, ends with +Inf = _count, and _sum is in
// seconds.
func TestPromHistBuckets(t *testing.T) {
	h := newLatHist()
	for _, v := range []int64{500, 1000, 1001, 2000, 20e9} {
		h.record(v)
	}
	var p promHist
	p.add(h)
	var b strings.Builder
	p.write(&b, "x_seconds", `stage="parse"`)
	out := b.String()
	for _, want := range []string{
		`x_seconds_bucket{stage="parse",le="1e-06"} 2` + "\n",
		`x_seconds_bucket{stage="parse",le="2e-06"} 4` + "\n",
		`x_seconds_bucket{stage="parse",le="10"} 4` + "\n",
		`x_seconds_bucket{stage="parse",le="+Inf"} 5` + "\n",
		`x_seconds_count{stage="parse"} 5` + "\n",
		`x_seconds_sum{stage="parse"} 20.000004501` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	p.write(&b, "y_seconds", "")
	if !strings.Contains(b.String(), `y_seconds_bucket{le="5e-06"} 4`+"\n") || !strings.Contains(b.String(), "y_seconds_count 5\n") {
		t.Errorf("unlabelled exposition:\n%s", b.String())
	}
}
