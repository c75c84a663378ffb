//go:build !linux

package ring

import "unsafe"

// mapHuge: huge pages are mapped on Linux only; elsewhere slots come from
// the Go heap.
func mapHuge(size uintptr) (unsafe.Pointer, uintptr) { return nil, 0 }

func unmap(p unsafe.Pointer, n uintptr) {}
