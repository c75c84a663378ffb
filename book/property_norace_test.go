//go:build !race

package book

import "testing"

// TestNoRacePropertyRandomStreams is TestPropertyRandomStreams with streams
// seven times longer and other seeds: too slow under the race detector.
func TestNoRacePropertyRandomStreams(t *testing.T) {
	propertyStreams(t, 4200, 100)
}
