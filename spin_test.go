package ringfeed

import (
	"testing"
	"time"
)

// The spin window stretches over a busy feed's gaps only where the
// processor may have a core to itself (stretch, set for more than two
// cores); otherwise it stays at the base window whatever the gap.
func TestSpinWindowStretch(t *testing.T) {
	base := int64(50 * time.Microsecond)
	for _, c := range []struct {
		stretch bool
		gap     time.Duration
		want    int64
	}{
		{false, 0, base},
		{false, 80 * time.Microsecond, base},
		{false, 300 * time.Microsecond, base},
		{true, 0, base},
		{true, 10 * time.Microsecond, base},
		{true, 80 * time.Microsecond, 4 * int64(80*time.Microsecond)},
		{true, 900 * time.Microsecond, maxSpin},
		{true, 2 * time.Millisecond, base}, // not busy: parks after the base window
	} {
		p := &processor{spin: time.Duration(base), stretch: c.stretch, gapNs: int64(c.gap)}
		if got := p.spinWindow(); got != c.want {
			t.Errorf("stretch=%v gap=%v: window %v, want %v", c.stretch, c.gap, time.Duration(got), time.Duration(c.want))
		}
	}
}
