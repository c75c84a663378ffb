//go:build !race

package bybitsim

import (
	"testing"
	"time"
)

// TestNoRaceConvergence is TestConvergence with more clients for longer.
func TestNoRaceConvergence(t *testing.T) {
	convergence(t, 4*time.Second, 4, 1)
}
