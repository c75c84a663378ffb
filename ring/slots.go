package ring

import (
	"reflect"
	"runtime"
	"unsafe"
)

// hugePage is the size of a transparent huge page on the platforms that
// have them (amd64 and arm64 Linux with 4 KiB base pages).
const hugePage = 2 << 20

// allocSlots sets r's slot array of n slots: on huge pages when the
// platform gives them (mapHuge), T holds no pointers (the memory is not
// the garbage collector's, so it must not hold the only reference to
// anything) and the array is at least a huge page; else from the Go heap.
// Mapped memory is unmapped once r is unreachable.
//
// Why: a reader writes each message into the next slot, and a ring of
// thousands of kilobyte-sized slots reuses a slot only after thousands of
// messages. At a live feed's pace every slot is then a TLB miss as well as
// a cache miss, and under virtualisation a TLB miss is a two-level page
// walk: BenchmarkReserveCold measures the same cold write into a ring of
// parse.Event-sized slots at ~0.1 µs on huge pages and ~0.9 µs on 4 KiB
// pages on the 2-vCPU VM the latency suite runs on. A few huge pages cover
// the whole array.
func allocSlots[T any](r *SPSC[T], n int, small bool) {
	size := uintptr(n) * unsafe.Sizeof(*new(T))
	if !small && size >= hugePage && pointerFree(reflect.TypeFor[T]()) {
		if p, length := mapHuge(size); p != nil {
			r.slots = unsafe.Slice((*T)(p), n)
			r.huge = true
			runtime.AddCleanup(r, func(m mapping) { unmap(m.p, m.n) }, mapping{p, length})
			return
		}
	}
	r.slots = make([]T, n)
}

// mapping is a region from mapHuge.
type mapping struct {
	p unsafe.Pointer
	n uintptr
}

// pointerFree reports whether values of t hold no pointers the garbage
// collector must see.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
