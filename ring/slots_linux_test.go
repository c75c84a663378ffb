package ring

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vmSize is the process's mapped memory in KiB.
func vmSize(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmSize:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Skip("no VmSize in /proc/self/status")
	return 0
}

// TestHugeSlotsUnmapped: a mapped ring's memory goes back to the system
// once the ring is unreachable, as heap slots would be collected; engines
// built and dropped in a loop do not grow the process.
func TestHugeSlotsUnmapped(t *testing.T) {
	const rings = 16 // 4 MiB each: 64 MiB if nothing were unmapped
	before := vmSize(t)
	for range rings {
		r := New[kslot](4096)
		if !r.HugePages() {
			t.Skip("slots not mapped")
		}
		r.Reserve().Seq = 1
		r.Publish()
	}
	// Cleanups run after a GC finds the rings unreachable, on a goroutine
	// of their own: wait until the mappings are gone, bounded.
	deadline := time.Now().Add(20 * time.Second)
	for {
		runtime.GC()
		grown := vmSize(t) - before
		if grown < 32<<10 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mapped memory grew by %d KiB after %d rings of 4 MiB were dropped", grown, rings)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
