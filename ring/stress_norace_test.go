//go:build !race

package ring

import (
	"fmt"
	"testing"
	"time"
)

// TestNoRaceStress pushes tens of millions of sequence numbers through two
// goroutines: 30M with the default wait, fewer with the slower strategies.
func TestNoRaceStress(t *testing.T) {
	n := uint64(30_000_000)
	if testing.Short() {
		n /= 10
	}
	for _, s := range strategies {
		for _, c := range []int{8, 1024} {
			t.Run(fmt.Sprintf("%s/cap%d", s.name, c), func(t *testing.T) {
				stress(t, n/s.div/2, c, s.opts, 60*time.Second)
			})
		}
	}
}
