package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// WriterOptions configure a Writer. The zero value writes one plain file.
type WriterOptions struct {
	// Compress writes zstd (a stream Reader recognises). Compressed
	// captures of book-heavy feeds are about a tenth of the plain size.
	Compress bool
	// RotateSize starts a new file once the current one holds this many
	// bytes of records (before compression); 0 never.
	RotateSize int64
	// RotateEvery starts a new file once the current one is this old; 0
	// never.
	RotateEvery time.Duration
	// Now is the clock for RotateEvery (time.Now when nil).
	Now func() time.Time
}

// Writer writes a capture to a file, or with rotation to a numbered series
// of files (Name). Files are switched only in Rotate, which its owner
// calls between whole records. Not safe for concurrent use.
type Writer struct {
	path   string
	opts   WriterOptions
	n      int // file number, from 1
	f      *os.File
	bw     *bufio.Writer
	zw     *zstd.Encoder
	w      io.Writer // bw, or zw over bw
	size   int64     // record bytes in the current file
	opened time.Time
	files  []string
}

// Create creates the first file of a capture at path (see Name) and
// writes its magic line.
func Create(path string, o WriterOptions) (*Writer, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	w := &Writer{path: path, opts: o}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// Name is the name of file n (from 1) of a capture at path: path itself
// without rotation, otherwise a six-digit number before the extension,
// so the files sort in order: "day.cap.zst" → "day.000001.cap.zst".
func Name(path string, n int, rotating bool) string {
	if !rotating {
		return path
	}
	dir, base := filepath.Split(path)
	stem, ext := base, ""
	if i := strings.IndexByte(base[min(1, len(base)):], '.'); i >= 0 {
		stem, ext = base[:i+1], base[i+1:]
	}
	return dir + fmt.Sprintf("%s.%06d%s", stem, n, ext)
}

func (w *Writer) rotating() bool { return w.opts.RotateSize > 0 || w.opts.RotateEvery > 0 }

func (w *Writer) open() error {
	w.n++
	name := Name(w.path, w.n, w.rotating())
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w.f, w.size, w.opened = f, 0, w.opts.Now()
	w.files = append(w.files, name)
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(f, 1<<20)
	} else {
		w.bw.Reset(f)
	}
	w.w = w.bw
	if w.opts.Compress {
		if w.zw == nil {
			w.zw, err = zstd.NewWriter(w.bw, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
			if err != nil {
				f.Close()
				return err
			}
		} else {
			w.zw.Reset(w.bw)
		}
		w.w = w.zw
	}
	_, err = io.WriteString(w.w, Magic)
	return err
}

// Write writes raw record bytes (whole records, as Ring.DrainTo gives
// them).
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.size += int64(n)
	return n, err
}

// WriteFrame writes one record.
func (w *Writer) WriteFrame(recvUnixNs int64, frame []byte) error {
	var hdr [headerSize]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(recvUnixNs))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(len(frame)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(frame)
	return err
}

// Flush hands everything written so far to the operating system (a
// complete zstd block when compressing), so the file survives the
// process being killed.
func (w *Writer) Flush() error {
	if w.zw != nil {
		if err := w.zw.Flush(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

// Rotate starts the next file when the current one has reached
// RotateSize or RotateEvery. Call it between whole records.
func (w *Writer) Rotate() error {
	if !w.rotating() || w.size == 0 {
		return nil
	}
	if !(w.opts.RotateSize > 0 && w.size >= w.opts.RotateSize) &&
		!(w.opts.RotateEvery > 0 && w.opts.Now().Sub(w.opened) >= w.opts.RotateEvery) {
		return nil
	}
	if err := w.closeFile(); err != nil {
		return err
	}
	return w.open()
}

func (w *Writer) closeFile() error {
	var err error
	if w.zw != nil {
		err = w.zw.Close()
	}
	if e := w.bw.Flush(); err == nil {
		err = e
	}
	if e := w.f.Close(); err == nil {
		err = e
	}
	return err
}

// Files lists the files written so far, in order.
func (w *Writer) Files() []string { return w.files }

// Close flushes and closes the current file.
func (w *Writer) Close() error { return w.closeFile() }
