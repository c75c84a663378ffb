//go:build !race

package ring

import (
	"fmt"
	"testing"
	"time"
)

// TestNoRaceStress pushes tens of millions of sequence numbers through two
// goroutines with the default options, then a million through every wait
// strategy with a small ring, where nearly every slot is a handoff.
func TestNoRaceStress(t *testing.T) {
	n := uint64(30_000_000)
	if testing.Short() {
		n /= 10
	}
	t.Run("default/cap1024", func(t *testing.T) {
		stress(t, n, 1024, DefaultOptions(), 2*time.Minute)
	})
	for _, s := range strategies {
		t.Run(fmt.Sprintf("%s/cap8", s.name), func(t *testing.T) {
			stress(t, n/30/s.div, 8, s.opts, time.Minute)
		})
	}
}
