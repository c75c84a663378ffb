package ring

import (
	"runtime"
	"testing"
	"unsafe"
)

// kslot is a kilobyte slot without pointers, the size class of the
// engine's parsed events.
type kslot struct {
	Seq uint64
	Pad [127]uint64
}

// pslot holds a pointer: it must stay on the Go heap.
type pslot struct {
	P   *int
	Pad [127]uint64
}

func TestSlotPages(t *testing.T) {
	huge := runtime.GOOS == "linux"
	for _, tc := range []struct {
		name string
		huge bool
		make func() interface{ HugePages() bool }
	}{
		{"pointer-free, 4 MiB", huge, func() interface{ HugePages() bool } { return New[kslot](4096) }},
		{"pointer-free, opted out", false, func() interface{ HugePages() bool } {
			return NewWithOptions[kslot](4096, Options{SmallPages: true})
		}},
		{"pointer-free, under 2 MiB", false, func() interface{ HugePages() bool } { return New[kslot](1024) }},
		{"holds pointers", false, func() interface{ HugePages() bool } { return New[pslot](4096) }},
		{"string slots", false, func() interface{ HugePages() bool } { return New[[512]string](1024) }},
	} {
		if got := tc.make().HugePages(); got != tc.huge {
			t.Errorf("%s: HugePages() = %v, want %v", tc.name, got, tc.huge)
		}
	}
}

// TestHugeSlotsCarryData runs every slot of a mapped ring through two
// laps: the memory behaves as the heap's would.
func TestHugeSlotsCarryData(t *testing.T) {
	r := New[kslot](2048)
	if runtime.GOOS == "linux" && !r.HugePages() {
		t.Fatal("2 MiB of pointer-free slots not mapped")
	}
	var seq uint64
	for lap := range 2 {
		for range r.Cap() {
			e := r.Reserve()
			if e == nil {
				t.Fatalf("lap %d: ring full at %d", lap, seq)
			}
			e.Seq = seq
			e.Pad[126] = ^seq
			seq++
		}
		r.Publish()
		want := seq - uint64(r.Cap())
		for b := r.Peek(); b != nil; b = r.Peek() {
			for i := range b {
				if b[i].Seq != want || b[i].Pad[126] != ^want {
					t.Fatalf("lap %d: slot holds %d/%d, want %d", lap, b[i].Seq, ^b[i].Pad[126], want)
				}
				want++
			}
			r.Release(len(b))
		}
		if want != seq {
			t.Fatalf("lap %d: read up to %d, wrote %d", lap, want, seq)
		}
	}
}

// asBytes is a kslot's padding as bytes, for benchmarks that write a
// message into a slot.
func asBytes(p *[127]uint64) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(p)), len(p)*8) }
