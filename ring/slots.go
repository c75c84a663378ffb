package ring

import "unsafe"

// pageSize is the smallest page size of the platforms the engine runs on;
// touching one byte per pageSize faults in every page of a range.
const pageSize = 4096

// newSlots returns a slot array of n slots with every page already in
// memory. Why: the slot array is a large allocation the Go runtime takes
// fresh from the OS and leaves untouched, so each of its pages is faulted
// in the first time a reader writes a slot on it, and a ring is used
// slot after slot: its first lap (8,192 messages by default, seconds to
// minutes of a live feed) pays a page fault every few messages, on a VM an
// exit to the hypervisor of a microsecond or more, on the reader's path.
// BenchmarkColdBurst in bench measures the parse of a cold burst into
// never-touched slots at about twice the cost of the same parse into
// slots that have been written before.
func newSlots[T any](n int) []T {
	s := make([]T, n)
	if n == 0 {
		return s
	}
	size := uintptr(n) * unsafe.Sizeof(s[0])
	base := unsafe.Pointer(unsafe.SliceData(s))
	for off := uintptr(0); off < size; off += pageSize {
		// Writing a zero over a zero changes nothing a slot holds; the
		// store is what makes the kernel map the page.
		*(*byte)(unsafe.Add(base, off)) = 0
	}
	return s
}
