package ring

import (
	"testing"
)

// FuzzOps drives one ring from a byte string of operations and checks it
// against a model queue: a slice of published sequence numbers, a count of
// reserved ones, the released total that fixes the wrap point, and the
// published total the consumer last saw (Peek reloads the producer's index
// only when the slots it saw are used up).
func FuzzOps(f *testing.F) {
	f.Add([]byte{2, 0, 1, 3, 3})
	f.Add([]byte{3, 0, 6, 1, 9, 0, 1, 3, 15, 24, 3, 21})
	f.Add([]byte{0, 0, 0, 2, 1, 3, 4, 4, 1, 5, 5, 3, 6, 3})
	f.Add([]byte{4, 30, 1, 33, 0, 18, 1, 9, 3, 39, 5, 11, 6, 5, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		capacity := 1 << (ops[0] % 5)
		r := NewWithOptions[ev](capacity, Options{})
		var (
			published []uint64 // published, not released
			reserved  int
			seq       uint64 // next sequence number to write
			released  uint64 // total released: the wrap point follows from it
			seen      uint64 // total published as the consumer last loaded it
			closed    bool
		)
		reserve := func(s *ev) {
			t.Helper()
			full := len(published)+reserved == capacity
			if want := !full && !closed; (s != nil) != want {
				t.Fatalf("Reserve() = %p with %d published, %d reserved of %d, closed %v; want a slot: %v",
					s, len(published), reserved, capacity, closed, want)
			}
			if s != nil {
				*s = ev{seq, chk(seq)}
				seq++
				reserved++
			}
		}
		for _, op := range ops[1:] {
			arg := int(op / 7)
			switch op % 7 {
			case 0:
				for range arg%5 + 1 {
					reserve(r.Reserve())
				}
			case 1:
				for i := range reserved {
					published = append(published, seq-uint64(reserved-i))
				}
				reserved = 0
				r.Publish()
			case 2:
				k := arg % (reserved + 1)
				r.Rollback(k)
				reserved -= k
				seq -= uint64(k)
			case 3, 5:
				var b []ev
				if op%7 == 3 {
					b = r.Peek()
				} else {
					if len(published) == 0 && !closed {
						r.Wake() // PeekWait must not wait for ever
					}
					var err error
					b, err = r.PeekWait()
					switch {
					case len(published) > 0 && err != nil:
						t.Fatalf("PeekWait() error %v with %d published; want nil", err, len(published))
					case len(published) == 0 && closed && err != ErrClosed:
						t.Fatalf("PeekWait() error %v on drained closed ring; want ErrClosed", err)
					case len(published) == 0 && !closed && err != ErrWoken:
						t.Fatalf("PeekWait() error %v after Wake; want ErrWoken", err)
					}
				}
				if seen == released {
					seen = released + uint64(len(published))
				}
				want := min(int(seen-released), capacity-int(released%uint64(capacity)))
				if len(b) != want {
					t.Fatalf("batch of %d; want %d (published %d, seen %d, released %d, cap %d)",
						len(b), want, len(published), seen-released, released, capacity)
				}
				for i, e := range b {
					if e.Seq != published[i] || e.Chk != chk(e.Seq) {
						t.Fatalf("slot %d = %+v; want Seq %d", i, e, published[i])
					}
				}
				k := arg % (len(b) + 1)
				r.Release(k)
				published = published[k:]
				released += uint64(k)
			case 4:
				s, err := r.ReserveWait(0)
				if s == nil { // ReserveWait published what was reserved
					for i := range reserved {
						published = append(published, seq-uint64(reserved-i))
					}
					reserved = 0
					want := ErrFull
					if closed {
						want = ErrClosed
					}
					if err != want {
						t.Fatalf("ReserveWait(0) error %v; want %v", err, want)
					}
				}
				reserve(s)
			case 6:
				if arg%4 == 0 {
					r.Close()
					closed = true
				}
			}
			if got := r.Len(); got != len(published) {
				t.Fatalf("Len() = %d; want %d", got, len(published))
			}
			if got := r.Reserved(); got != reserved {
				t.Fatalf("Reserved() = %d; want %d", got, reserved)
			}
		}
	})
}
