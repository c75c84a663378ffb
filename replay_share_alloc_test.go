//go:build !race

package ringfeed_test

import (
	"context"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/bench"
)

// countingSource reads the allocation counter when the replay asks for
// frame from (every scratch buffer has grown by then) and at the end of
// the input. It restates bench's allocSource (TestReplayAllocsPerMessage)
// on purpose: ShareFrames, which makes the processor parse most frames,
// is visible only to this package's tests, and bench's test helpers only
// to bench's.
type countingSource struct {
	frames  []ringfeed.Frame
	i, from int
	m0, m1  runtime.MemStats
	done    bool
}

func (s *countingSource) Next() (ringfeed.Frame, error) {
	if s.i == s.from {
		runtime.ReadMemStats(&s.m0)
	}
	if s.i == len(s.frames) {
		runtime.ReadMemStats(&s.m1)
		s.done = true
		return ringfeed.Frame{}, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}

// TestReplaySharedParsingAllocs: the processor's share of the parsing
// (its own parser and slots) allocates nothing per message either. Every
// frame that fits a slot is handed over, so the processor parses most of
// the feed; the bound is TestReplayAllocsPerMessage's.
func TestReplaySharedParsingAllocs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	frames, err := bench.Generate(ctx, bench.Replay8, 1, 40_000)
	if err != nil {
		t.Fatal(err)
	}
	defer ringfeed.ShareFrames(true)()
	src := &countingSource{frames: frames, from: 10_000}
	res, err := ringfeed.ReplaySource(ctx, bench.Replay8.ReplayConfig(), func() (ringfeed.FrameSource, error) { return src, nil }, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !src.done || ringfeed.SharedFrames(res) < len(frames)/2 {
		t.Fatalf("read to the end: %v; processor parsed %d of %d frames; want most", src.done, ringfeed.SharedFrames(res), len(frames))
	}
	n := len(frames) - src.from
	perMsg := float64(src.m1.Mallocs-src.m0.Mallocs) / float64(n)
	t.Logf("%d allocations over %d frames: %.6f per frame", src.m1.Mallocs-src.m0.Mallocs, n, perMsg)
	if perMsg > 1e-3 {
		t.Errorf("got %.6f allocs per frame in steady state; want ≤ 0.001", perMsg)
	}
}
