package ring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapHuge maps size bytes, rounded up to whole huge pages, of zeroed
// anonymous memory aligned to a huge page, asks for transparent huge pages
// on it (MADV_HUGEPAGE: honoured when the system's THP setting is "always"
// or "madvise") and touches every base page, so the faults, and any
// compaction the kernel does to find huge pages, happen here at
// construction rather than under the first messages. It returns nil if the
// memory cannot be mapped; where huge pages are refused the memory works
// on base pages.
func mapHuge(size uintptr) (unsafe.Pointer, uintptr) {
	size = (size + hugePage - 1) &^ (hugePage - 1)
	// One huge page more than needed, trimmed to an aligned start: mmap
	// aligns to base pages only.
	raw, err := unix.MmapPtr(-1, 0, nil, size+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, 0
	}
	head := (hugePage - uintptr(raw)&(hugePage-1)) & (hugePage - 1)
	if head > 0 {
		_ = unix.MunmapPtr(raw, head)
	}
	p := unsafe.Add(raw, head)
	if tail := hugePage - head; tail > 0 {
		_ = unix.MunmapPtr(unsafe.Add(p, size), tail)
	}
	mem := unsafe.Slice((*byte)(p), size)
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // EINVAL without THP: base pages then
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 0
	}
	return p, size
}

// unmap releases a region from mapHuge.
func unmap(p unsafe.Pointer, n uintptr) { _ = unix.MunmapPtr(p, n) }
