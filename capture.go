package ringfeed

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Capture file format: the magic line, then records of
//
//	recvUnixNs int64 | length uint32 | frame bytes
//
// little endian. Receive times are wall-clock nanoseconds derived from the
// monotonic receive clock, so intervals between frames are exact.
const captureMagic = "RINGFEED-CAPTURE-1\n"

// recordRingSize is the byte ring of each connection's recorder: 16 MiB
// absorbs seconds of a busy feed while the disk is slow.
const recordRingSize = 16 << 20

// byteRing is a single-producer single-consumer ring of variable-length
// records. The producer (a connection's reader) never waits: a record that
// does not fit is dropped and counted.
type byteRing struct {
	buf     []byte
	mask    uint64
	head    atomic.Uint64 // consumed bytes
	tail    atomic.Uint64 // produced bytes
	dropped atomic.Uint64
}

func newByteRing(size int) *byteRing {
	return &byteRing{buf: make([]byte, size), mask: uint64(size - 1)}
}

func (r *byteRing) put(recvNs int64, p []byte) {
	need := uint64(12 + len(p))
	t := r.tail.Load()
	if need > uint64(len(r.buf))-(t-r.head.Load()) {
		r.dropped.Add(1)
		return
	}
	var hdr [12]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(recvNs))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(len(p)))
	r.copyIn(t, hdr[:])
	r.copyIn(t+12, p)
	r.tail.Store(t + need)
}

func (r *byteRing) copyIn(at uint64, p []byte) {
	for len(p) > 0 {
		i := at & r.mask
		n := copy(r.buf[i:], p)
		p = p[n:]
		at += uint64(n)
	}
}

// drainTo writes every complete record to w.
func (r *byteRing) drainTo(w io.Writer) error {
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

// recorder owns the capture file and one byte ring per connection. Its
// goroutine drains the rings every few milliseconds; readers only copy
// into their ring.
type recorder struct {
	path  string
	f     *os.File
	w     *bufio.Writer
	rings []*byteRing
	clock wallClock
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	err   error
}

func newRecorder(path string, conns int, clock wallClock) (*recorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, cfgErr("Record", "%v", err)
	}
	r := &recorder{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20), clock: clock,
		stop: make(chan struct{}), done: make(chan struct{})}
	for range conns {
		r.rings = append(r.rings, newByteRing(recordRingSize))
	}
	if _, err := r.w.WriteString(captureMagic); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (r *recorder) start() {
	go func() {
		defer close(r.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				r.drain()
				return
			case <-t.C:
				r.drain()
			}
		}
	}()
}

func (r *recorder) drain() {
	if r.err != nil {
		return
	}
	for _, br := range r.rings {
		if err := br.drainTo(r.w); err != nil {
			r.err = err
			return
		}
	}
}

// close drains what the readers wrote, flushes and closes the file.
func (r *recorder) close() error {
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		if err := r.w.Flush(); err != nil && r.err == nil {
			r.err = err
		}
		if err := r.f.Close(); err != nil && r.err == nil {
			r.err = err
		}
	})
	return r.err
}

func (r *recorder) dropped() uint64 {
	var n uint64
	for _, br := range r.rings {
		n += br.dropped.Load()
	}
	return n
}

// Frame is one recorded or replayed WebSocket text message.
type Frame struct {
	RecvUnixNs int64 // 0 when the source had no receive times (NDJSON)
	Data       []byte
}

// ReadCapture reads a capture file written by --record, or plain NDJSON
// (one raw Bybit frame per line, the format other tools record). It
// returns the frames in file order.
func ReadCapture(rd io.Reader) ([]Frame, error) {
	br := bufio.NewReaderSize(rd, 1<<20)
	head, err := br.Peek(len(captureMagic))
	if err == nil && string(head) == captureMagic {
		if _, err := br.Discard(len(captureMagic)); err != nil {
			return nil, err
		}
		var frames []Frame
		var hdr [12]byte
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				if errors.Is(err, io.EOF) {
					return frames, nil
				}
				return frames, fmt.Errorf("capture: truncated record header after %d frames", len(frames))
			}
			n := binary.LittleEndian.Uint32(hdr[8:])
			if n > 64<<20 {
				return frames, fmt.Errorf("capture: record %d claims %d bytes", len(frames), n)
			}
			data := make([]byte, n)
			if _, err := io.ReadFull(br, data); err != nil {
				return frames, fmt.Errorf("capture: truncated record %d", len(frames))
			}
			frames = append(frames, Frame{RecvUnixNs: int64(binary.LittleEndian.Uint64(hdr[:8])), Data: data})
		}
	}
	var frames []Frame
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			// hftbacktest-style lines carry a receive time before
			// the frame: "<ns> {...}".
			if i := bytes.IndexByte(line, '{'); i > 0 {
				var ts int64
				if _, err := fmt.Sscan(string(bytes.TrimSpace(line[:i])), &ts); err == nil {
					frames = append(frames, Frame{RecvUnixNs: ts, Data: bytes.Clone(line[i:])})
				}
			}
			continue
		}
		frames = append(frames, Frame{Data: bytes.Clone(line)})
	}
	return frames, sc.Err()
}
