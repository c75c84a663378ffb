package ring

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A new ring's slot array is in memory before the first Reserve: every
// page resident (mincore), so no message pays for faulting one in.
func TestSlotsResident(t *testing.T) {
	r := New[kslot](8192) // 8 MiB
	start := uintptr(unsafe.Pointer(unsafe.SliceData(r.slots)))
	end := start + uintptr(len(r.slots))*unsafe.Sizeof(r.slots[0])
	pg := uintptr(unix.Getpagesize())
	lo, hi := start&^(pg-1), (end+pg-1)&^(pg-1)
	vec := make([]byte, (hi-lo)/pg)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, lo, hi-lo, uintptr(unsafe.Pointer(unsafe.SliceData(vec)))); errno != 0 {
		t.Skip("mincore:", errno)
	}
	missing := 0
	for _, v := range vec {
		if v&1 == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of the slot array's %d pages not resident after New", missing, len(vec))
	}
}
