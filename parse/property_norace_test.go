//go:build !race

package parse

import "testing"

// TestNoRacePropertyLong runs the round-trip properties with ten times
// the iterations (too slow under -race; the short versions run there).
func TestNoRacePropertyLong(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		propertyBookRoundTrip(t, seed, 300)
	}
}
