//go:build !race

package kline

import (
	"fmt"
	"testing"
)

// TestNoRaceWindowMatchesReference is TestWindowMatchesReference with longer
// sequences and more seeds; too slow under the race detector.
func TestNoRaceWindowMatchesReference(t *testing.T) {
	for _, iv := range propertyIntervals {
		for _, capacity := range []int{1, 2, 4, 7, 32, 200} {
			t.Run(fmt.Sprintf("%v/cap%d", iv, capacity), func(t *testing.T) {
				for seed := range uint64(3) {
					runSequence(t, iv, capacity, 100+seed, 10000)
				}
			})
		}
	}
}
