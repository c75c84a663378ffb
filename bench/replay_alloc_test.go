//go:build !race

package bench

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/ringfeed/ringfeed"
)

// allocSource feeds frames and reads the allocation counter when the
// feeder asks for frame from (the warm-up is over: every scratch buffer
// has grown, the processor's trees have their nodes) and at the end of
// the input, so the difference is what the pipeline allocated for the
// frames between, engine setup and the final dump left out.
type allocSource struct {
	frames   []ringfeed.Frame
	i, from  int
	measure  bool // the first source opened measures (open may be called again)
	m0, m1   runtime.MemStats
	measured bool
}

func (s *allocSource) Next() (ringfeed.Frame, error) {
	if s.measure && s.i == s.from {
		runtime.ReadMemStats(&s.m0)
	}
	if s.i == len(s.frames) {
		if s.measure {
			runtime.ReadMemStats(&s.m1)
			s.measured = true
		}
		return ringfeed.Frame{}, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}

// TestReplayAllocsPerMessage is the whole pipeline's zero-allocation gate
// (parse → ring → processor → books, klines, tickers, trades), measured
// inside a replay between frame 20,000 and the end of the feed. The
// bound allows the runtime's rare allocations when the processor parks
// and wakes (its sudog cache; 0–10 were seen over 50k messages), while a
// per-message or per-batch allocation would read ≥ 0.015.
func TestReplayAllocsPerMessage(t *testing.T) {
	for _, sc := range []Scenario{Book50x8, Mixed200, Replay8} {
		t.Run(sc.Name, func(t *testing.T) {
			frames := feed(t, sc, 60_000)
			src := &allocSource{frames: frames, from: 20_000, measure: true}
			opened := 0
			_, err := ringfeed.ReplaySource(context.Background(), sc.ReplayConfig(),
				func() (ringfeed.FrameSource, error) {
					if opened++; opened == 1 {
						return src, nil
					}
					return &allocSource{frames: frames}, nil
				}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !src.measured {
				t.Fatal("the feed was not read to its end")
			}
			n := len(frames) - src.from
			allocs := src.m1.Mallocs - src.m0.Mallocs
			perMsg := float64(allocs) / float64(n)
			t.Logf("%s: %d allocations over %d frames: %.6f per frame", sc.Name, allocs, n, perMsg)
			if perMsg > 1e-3 {
				t.Errorf("%s: got %.6f allocs per frame in steady state; want ≤ 0.001", sc.Name, perMsg)
			}
		})
	}
}
