package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// Reader reads frames from a capture (plain or zstd-compressed) or an
// NDJSON file, streaming: it holds one buffer of the input, not the whole
// file. Open maps a plain file into memory instead, so reading it copies
// nothing. Not safe for concurrent use.
type Reader struct {
	src     io.Reader // nil once the whole input is in buf
	closeFn func() error
	zr      *zstd.Decoder
	buf     []byte
	r, w    int // buf[r:w] is unread
	eof     bool
	srcErr  error // a read error other than io.EOF
	binary  bool
	skipped int // NDJSON lines that hold no frame
	tail    int // bytes of an incomplete final record
	done    bool
}

// NewReader returns a Reader of rd, recognising the format from the first
// bytes.
func NewReader(rd io.Reader) (*Reader, error) {
	r := &Reader{src: rd, buf: make([]byte, 1<<20)}
	return r, r.init()
}

// Open opens the file at path for reading. A plain (uncompressed) regular
// file is mapped into memory where the platform allows (Linux); Close
// unmaps it. A mapped file must not be truncated while it is read: the
// process would die of SIGBUS (a file still being appended to is fine:
// the mapping ends at the size it had when opened).
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if m, unmap := mapFile(f); m != nil && !bytes.HasPrefix(m, zstdMagic) {
		f.Close()
		r := &Reader{buf: m, w: len(m), eof: true, closeFn: unmap}
		if err := r.init(); err != nil {
			unmap()
			return nil, err
		}
		return r, nil
	} else if m != nil {
		unmap()
	}
	r := &Reader{src: f, buf: make([]byte, 1<<20), closeFn: f.Close}
	if err := r.init(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) init() error {
	r.fill(len(Magic))
	if bytes.HasPrefix(r.buf[r.r:r.w], zstdMagic) {
		// Decoding in the caller's goroutine (concurrency 1), not in
		// goroutines of the decoder's own: a replay already keeps both
		// cores busy, and the asynchronous decoder spent ~0.6 µs of CPU a
		// replay-8 frame against ~0.4 µs in line (and ran a replay at
		// 0.91 M msgs/s against 1.09 M).
		zr, err := zstd.NewReader(io.MultiReader(bytes.NewReader(bytes.Clone(r.buf[r.r:r.w])), orEmpty(r.src)),
			zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return fmt.Errorf("capture: zstd: %w", err)
		}
		r.zr, r.src = zr, zr
		// Open never maps a compressed file: buf is the stream buffer.
		r.r, r.w, r.eof = 0, 0, false
		r.fill(len(Magic))
	}
	if bytes.HasPrefix(r.buf[r.r:r.w], []byte(Magic)) {
		r.binary = true
		r.r += len(Magic)
	}
	return nil
}

func orEmpty(rd io.Reader) io.Reader {
	if rd == nil {
		return bytes.NewReader(nil)
	}
	return rd
}

// fill reads until need bytes are unread or the input ends.
func (r *Reader) fill(need int) {
	for r.w-r.r < need && !r.eof {
		if r.r > 0 && len(r.buf)-r.r < need {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		}
		if len(r.buf)-r.r < need {
			nb := make([]byte, max(2*len(r.buf), need))
			r.w = copy(nb, r.buf[r.r:r.w])
			r.r, r.buf = 0, nb
		}
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.eof = true
			if !errors.Is(err, io.EOF) {
				r.srcErr = err
			}
		}
	}
}

// Next returns the next frame, or io.EOF after the last complete one (see
// Truncated). The frame's Data aliases the Reader's buffer and is valid
// until the next call.
func (r *Reader) Next() (Frame, error) {
	if r.done {
		return Frame{}, io.EOF
	}
	if r.binary {
		return r.nextRecord()
	}
	return r.nextLine()
}

func (r *Reader) end(tail int) (Frame, error) {
	r.done, r.tail = true, tail
	return Frame{}, io.EOF
}

func (r *Reader) nextRecord() (Frame, error) {
	if r.w-r.r < headerSize {
		r.fill(headerSize)
		if r.w-r.r < headerSize {
			return r.end(r.w - r.r)
		}
	}
	n := int(binary.LittleEndian.Uint32(r.buf[r.r+8:]))
	if n > MaxFrame {
		r.done = true
		return Frame{}, fmt.Errorf("%w: length %d", ErrCorrupt, n)
	}
	if r.w-r.r < headerSize+n {
		r.fill(headerSize + n)
		if r.w-r.r < headerSize+n {
			return r.end(r.w - r.r)
		}
	}
	f := Frame{RecvUnixNs: int64(binary.LittleEndian.Uint64(r.buf[r.r:])), Data: r.buf[r.r+headerSize : r.r+headerSize+n : r.r+headerSize+n]}
	r.r += headerSize + n
	return f, nil
}

func (r *Reader) nextLine() (Frame, error) {
	for {
		var line []byte
		off := 0
		for {
			if i := bytes.IndexByte(r.buf[r.r+off:r.w], '\n'); i >= 0 {
				line = r.buf[r.r : r.r+off+i]
				r.r += off + i + 1
				break
			}
			if r.eof {
				// The last line has no newline: a frame if it is
				// complete JSON's last byte, else a cut-off one.
				rest := bytes.TrimSpace(r.buf[r.r:r.w])
				if len(rest) == 0 {
					return r.end(0)
				}
				if rest[len(rest)-1] != '}' {
					return r.end(r.w - r.r)
				}
				line = r.buf[r.r:r.w]
				r.r = r.w
				break
			}
			off = r.w - r.r
			r.fill(off + 1)
		}
		if f, ok := r.lineFrame(line); ok {
			return f, nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			r.skipped++
		}
	}
}

var recvPrefix = []byte(`{"recv_ns":`)

// lineFrame finds the frame in one NDJSON line: the line itself, "<ns>
// {…}" or {"recv_ns":<ns>,"data":{…}}.
func (r *Reader) lineFrame(line []byte) (Frame, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Frame{}, false
	}
	if line[0] != '{' {
		ns, rest, ok := leadingInt(line)
		if !ok {
			return Frame{}, false
		}
		rest = bytes.TrimSpace(rest)
		if len(rest) == 0 || rest[0] != '{' {
			return Frame{}, false
		}
		return Frame{RecvUnixNs: ns, Data: rest}, true
	}
	if bytes.HasPrefix(line, recvPrefix) {
		ns, rest, ok := leadingInt(line[len(recvPrefix):])
		if ok {
			if data, ok := bytes.CutPrefix(rest, []byte(`,"data":`)); ok && len(data) > 1 && data[len(data)-1] == '}' {
				return Frame{RecvUnixNs: ns, Data: bytes.TrimSpace(data[:len(data)-1])}, true
			}
		}
	}
	return Frame{Data: line}, true
}

func leadingInt(b []byte) (int64, []byte, bool) {
	var n int64
	i := 0
	for ; i < len(b) && i < 19 && b[i]-'0' <= 9; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, b[i:], i > 0
}

// Skipped is the number of non-empty NDJSON lines that held no frame.
func (r *Reader) Skipped() int { return r.skipped }

// Truncated reports an input that ended inside a record (or, for NDJSON,
// inside a line), or a compressed stream that broke off: every complete
// frame before it was returned. nil for an input that ended cleanly.
// Meaningful once Next has returned io.EOF.
func (r *Reader) Truncated() error {
	switch {
	case r.srcErr != nil && r.tail > 0:
		return fmt.Errorf("capture: input ends inside a record (%d bytes left over): %v", r.tail, r.srcErr)
	case r.srcErr != nil:
		return fmt.Errorf("capture: %v", r.srcErr)
	case r.tail > 0:
		return fmt.Errorf("capture: input ends inside a record (%d bytes left over)", r.tail)
	}
	return nil
}

// Close releases the input (unmapping or closing a file Open opened).
func (r *Reader) Close() error {
	if r.zr != nil {
		r.zr.Close()
	}
	if r.closeFn != nil {
		return r.closeFn()
	}
	return nil
}

// ReadAll reads every frame of rd into memory (each Data its own copy) and
// reports a truncated input as its error, with the frames before it.
func ReadAll(rd io.Reader) ([]Frame, error) {
	r, err := NewReader(rd)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var frames []Frame
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return frames, r.Truncated()
		}
		if err != nil {
			return frames, err
		}
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
	}
}
