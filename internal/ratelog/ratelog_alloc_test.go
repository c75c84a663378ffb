//go:build !race

package ratelog

import (
	"testing"
	"time"
)

// TestGateAllocNoRace: the reader consults a Gate per bad frame; it must
// not allocate.
func TestGateAllocNoRace(t *testing.T) {
	var g Gate
	now := int64(time.Hour)
	if n := testing.AllocsPerRun(1000, func() { now++; g.Allow(now, time.Second) }); n != 0 {
		t.Fatalf("Gate.Allow: got %v allocations; want 0", n)
	}
}
