package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/wsconn"
)

// recordBatch is how many topics go into one subscribe request: Bybit
// documents no limit for linear, and common clients send 10 at a time.
const recordBatch = 10

// errRecord marks a recording that could not complete.
var errRecord = errors.New("bench: record")

// Record connects to sim as a client, subscribes every topic of sc, and
// returns the first n data frames the simulator sends (plus the acks, which
// a real recording also holds), stamped with their receive times. The
// simulator is paused for the whole recording and advanced with Step, so
// for a given seed the sequence of messages is the same on every run; only
// the wall-clock fields (ts, cts, T) differ. sim is left paused.
//
// Record is not a benchmark: it waits for every message it asked for, and
// it takes about as long as the simulator needs to render the frames.
func Record(ctx context.Context, sim *bybitsim.Server, sc Scenario, n int) ([]ringfeed.Frame, error) {
	sim.Pause()
	c, err := wsconn.Dial(ctx, sim.URL(Category), wsconn.Options{MaxMessageSize: 64 << 20})
	if err != nil {
		return nil, fmt.Errorf("%w: dial: %v", errRecord, err)
	}
	defer c.Close(wsconn.CloseNormal, "")
	stop := context.AfterFunc(ctx, func() { c.Close(wsconn.CloseGoingAway, "") })
	defer stop()

	topics := sc.TopicNames()
	reqs := 0
	for i := 0; i < len(topics); i += recordBatch {
		args := topics[i:min(i+recordBatch, len(topics))]
		var req []byte
		req = append(req, `{"op":"subscribe","req_id":"r`...)
		req = strconv.AppendInt(req, int64(reqs), 10)
		req = append(req, `","args":[`...)
		for j, t := range args {
			if j > 0 {
				req = append(req, ',')
			}
			req = strconv.AppendQuote(req, t)
		}
		req = append(req, "]}"...)
		if err := c.WriteText(req); err != nil {
			return nil, fmt.Errorf("%w: subscribe: %v", errRecord, err)
		}
		reqs++
	}

	var frames []ringfeed.Frame
	data := 0
	clock := newWallClock()
	read := func() (isData bool, err error) {
		m, err := c.ReadMessage()
		if err != nil {
			return false, err
		}
		p := bytes.Clone(m.Payload)
		frames = append(frames, ringfeed.Frame{RecvUnixNs: clock.wall(m.RecvNs), Data: p})
		if isDataFrame(p) {
			data++
			return true, nil
		}
		if !bytes.Contains(p, []byte(`"success":true`)) {
			return false, fmt.Errorf("%w: subscribe rejected: %s", errRecord, p)
		}
		return false, nil
	}
	// Acks come before the snapshots of their request, which the
	// simulator queues under the same lock: once every ack is in, the
	// message counter covers every snapshot.
	for acks := 0; acks < reqs; {
		isData, err := read()
		if err != nil {
			return nil, fmt.Errorf("%w: waiting for acks: %v", errRecord, err)
		}
		if !isData {
			acks++
		}
	}
	want := 0
	for _, v := range sim.Stats().Messages {
		want += int(v)
	}
	for data < n {
		for data < want {
			if _, err := read(); err != nil {
				return nil, fmt.Errorf("%w: after %d of %d data frames: %v", errRecord, data, want, err)
			}
		}
		if data >= n {
			break
		}
		// A step queues every due stream's message at once; small steps
		// keep the simulator's queue (and its slow-client cut) far away.
		want += sim.Step(1)
	}
	return trimData(frames, n), nil
}

// trimData cuts frames after the n-th data frame.
func trimData(frames []ringfeed.Frame, n int) []ringfeed.Frame {
	d := 0
	for i, f := range frames {
		if isDataFrame(f.Data) {
			if d++; d == n {
				return frames[:i+1]
			}
		}
	}
	return frames
}

// isDataFrame reports whether a frame is market data (it has a topic)
// rather than an ack or a pong. Bybit and the simulator put "topic" first.
func isDataFrame(p []byte) bool { return bytes.HasPrefix(p, []byte(`{"topic":`)) }

// Generate starts a simulator for sc with seed, records n data frames from
// it (see Record) and stops it.
func Generate(ctx context.Context, sc Scenario, seed uint64, n int) ([]ringfeed.Frame, error) {
	cfg, err := sc.SimConfig(seed)
	if err != nil {
		return nil, err
	}
	sim, err := bybitsim.Start(cfg)
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	return Record(ctx, sim, sc, n)
}

// WriteNDJSON writes frames one per line: the plain format `ringfeed
// replay` reads and other tools record. Receive times are not written.
func WriteNDJSON(w io.Writer, frames []ringfeed.Frame) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	for _, f := range frames {
		if bytes.IndexByte(f.Data, '\n') >= 0 {
			return fmt.Errorf("bench: frame holds a newline: %.60q", f.Data)
		}
		bw.Write(f.Data)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteNDJSONFile writes frames to a new file at path (see WriteNDJSON).
func WriteNDJSONFile(path string, frames []ringfeed.Frame) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteNDJSON(f, frames); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadFeedFile reads a capture or NDJSON file with ringfeed.ReadCapture,
// the reader `ringfeed replay` uses.
func ReadFeedFile(path string) ([]ringfeed.Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ringfeed.ReadCapture(f)
}

// FeedBytes is the total payload size of frames.
func FeedBytes(frames []ringfeed.Frame) int64 {
	var n int64
	for _, f := range frames {
		n += int64(len(f.Data))
	}
	return n
}

// wallClock turns wsconn.Nanotime readings into wall-clock nanoseconds, as
// the engine's recorder does, so receive times from the two can be
// compared.
type wallClock struct{ off int64 }

func newWallClock() wallClock {
	return wallClock{off: time.Now().UnixNano() - wsconn.Nanotime()}
}

func (c wallClock) wall(mono int64) int64 { return mono + c.off }
