//go:build !race

package session

import (
	"testing"
	"time"
)

// TestNoRaceSoak: ten seconds of random faults; see soak.
func TestNoRaceSoak(t *testing.T) {
	for _, seed := range []uint64{41, 42} {
		soak(t, 5*time.Second, seed)
	}
}
