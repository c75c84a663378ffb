package ringfeed

import (
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ringfeed/ringfeed/capture"
)

// recordRingSize is the byte ring of each connection's recorder: 16 MiB
// absorbs seconds of a busy feed while the disk is slow.
const recordRingSize = 16 << 20

// recordFlushEvery bounds what a killed process loses of its capture: the
// recorder hands the file everything drained at least this often.
const recordFlushEvery = time.Second

// Frame is one recorded or replayed WebSocket text message.
type Frame = capture.Frame

// recorder owns the capture file and one byte ring per connection. Its
// goroutine drains the rings every few milliseconds, flushes to the file
// every second and rotates between drains; readers only copy into their
// ring.
type recorder struct {
	w     *capture.Writer
	rings []*capture.Ring
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	err   error
}

func newRecorder(cfg *Config, conns int) (*recorder, error) {
	w, err := capture.Create(cfg.Record, capture.WriterOptions{
		Compress:    strings.HasSuffix(cfg.Record, ".zst"),
		RotateSize:  cfg.RecordRotateSize,
		RotateEvery: cfg.RecordRotateEvery,
	})
	if err != nil {
		return nil, cfgErr("Record", "%v", err)
	}
	r := &recorder{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	for range conns {
		r.rings = append(r.rings, capture.NewRing(recordRingSize))
	}
	return r, nil
}

func (r *recorder) start() {
	go func() {
		defer close(r.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		lastFlush := time.Now()
		for {
			select {
			case <-r.stop:
				r.drain()
				return
			case now := <-t.C:
				r.drain()
				if r.err == nil {
					r.err = r.w.Rotate()
				}
				if now.Sub(lastFlush) >= recordFlushEvery && r.err == nil {
					lastFlush = now
					r.err = r.w.Flush()
				}
			}
		}
	}()
}

func (r *recorder) drain() {
	if r.err != nil {
		return
	}
	for _, br := range r.rings {
		if err := br.DrainTo(r.w); err != nil {
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
		if err := r.w.Close(); err != nil && r.err == nil {
			r.err = err
		}
	})
	return r.err
}

func (r *recorder) dropped() uint64 {
	var n uint64
	for _, br := range r.rings {
		n += br.Dropped()
	}
	return n
}

// ReadCapture reads a whole capture file written by --record (plain or
// zstd) or NDJSON (see package capture) into memory. A truncated input
// returns every complete frame and the truncation as the error.
func ReadCapture(rd io.Reader) ([]Frame, error) {
	return capture.ReadAll(rd)
}
