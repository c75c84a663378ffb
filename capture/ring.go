package capture

import (
	"encoding/binary"
	"io"
	"sync/atomic"
)

// Ring is a single-producer single-consumer ring of capture records. The
// producer (a connection's reader) never waits: a record that does not
// fit is dropped and counted. The consumer drains whole records into a
// Writer.
type Ring struct {
	buf     []byte
	mask    uint64
	head    atomic.Uint64 // consumed bytes
	tail    atomic.Uint64 // produced bytes
	dropped atomic.Uint64
}

// NewRing returns a ring of size bytes. It panics unless size is a power
// of two.
func NewRing(size int) *Ring {
	if size <= 0 || size&(size-1) != 0 {
		panic("capture: NewRing: size is not a power of two")
	}
	return &Ring{buf: make([]byte, size), mask: uint64(size - 1)}
}

// Put copies one record in, or drops and counts it when the ring has no
// room. Producer only; it does not allocate.
func (r *Ring) Put(recvUnixNs int64, p []byte) bool {
	need := uint64(headerSize + len(p))
	t := r.tail.Load()
	if need > uint64(len(r.buf))-(t-r.head.Load()) {
		r.dropped.Add(1)
		return false
	}
	var hdr [headerSize]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(recvUnixNs))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(len(p)))
	r.copyIn(t, hdr[:])
	r.copyIn(t+headerSize, p)
	r.tail.Store(t + need)
	return true
}

func (r *Ring) copyIn(at uint64, p []byte) {
	for len(p) > 0 {
		i := at & r.mask
		n := copy(r.buf[i:], p)
		p = p[n:]
		at += uint64(n)
	}
}

// DrainTo writes every complete record to w (whole records: the bytes end
// on a record boundary). Consumer only.
func (r *Ring) DrainTo(w io.Writer) error {
	h, t := r.head.Load(), r.tail.Load()
	for h < t {
		i := h & r.mask
		end := min(uint64(len(r.buf)), i+(t-h))
		if _, err := w.Write(r.buf[i:end]); err != nil {
			return err
		}
		h += end - i
	}
	r.head.Store(h)
	return nil
}

// Dropped is the number of records dropped for want of room.
func (r *Ring) Dropped() uint64 { return r.dropped.Load() }
