package ring

import "testing"

// kslot is a kilobyte slot without pointers, the size class of the
// engine's parsed events.
type kslot struct {
	Seq uint64
	Pad [127]uint64
}

// Slots of every shape come back zeroed and usable, pointers included
// (the pre-faulting writes zero bytes over zero values).
func TestNewSlotsZeroed(t *testing.T) {
	k := newSlots[kslot](4096)
	for i := range k {
		if k[i].Seq != 0 || k[i].Pad != [127]uint64{} {
			t.Fatalf("slot %d not zero", i)
		}
	}
	p := newSlots[*int](10000)
	for i := range p {
		if p[i] != nil {
			t.Fatalf("pointer slot %d not nil", i)
		}
	}
	s := newSlots[[3]string](5000)
	if s[4999] != [3]string{} {
		t.Fatal("string slot not empty")
	}
	if len(newSlots[kslot](0)) != 0 {
		t.Fatal("zero slots")
	}
}
