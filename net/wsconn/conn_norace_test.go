//go:build !race

package wsconn

import "testing"

// 80k one-byte writes take seconds under the race detector, hence !race; the
// Makefile's norace target runs it (-run 'Alloc|NoRace').
func TestNoRaceOneByteWrites(t *testing.T) {
	oneByteWrites(t, 70000)
}
