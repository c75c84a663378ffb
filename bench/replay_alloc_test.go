//go:build !race

package bench

import (
	"context"
	"runtime"
	"testing"

	"github.com/ringfeed/ringfeed"
)

// TestReplayAllocsPerMessage is the whole pipeline's zero-allocation gate
// (parse → ring → processor → books, klines, tickers, trades): a replay
// allocates to build the engine and to dump its final state, about the
// same for a short and a long feed, so the difference between the two,
// per extra message, is what the steady state allocates. The bound is
// per workload: the dump of 200 symbols' books, windows and tickers
// formats ~50k strings whose count varies with the final state (the long
// feed's dump makes ~600 more, deterministically, in the dump's decimal
// formatting: a profile diff shows no hot-path site), so mixed-200 can
// only be held to 1 per 50 messages (a per-message allocation, or one per
// 32-message batch, would still fail it); book50-8's dump is small and is
// held to 1 per 1,000: the runtime allocates a little when the processor
// parks and wakes (its count varies with scheduling: 0–10 extra over 50k
// messages were seen), while a per-message or per-batch allocation would
// read ≥ 0.03.
func TestReplayAllocsPerMessage(t *testing.T) {
	for _, c := range []struct {
		sc    Scenario
		bound float64
	}{
		{Book50x8, 1e-3},
		{Mixed200, 2e-2},
	} {
		sc := c.sc
		t.Run(sc.Name, func(t *testing.T) {
			frames := feed(t, sc, 60_000)
			short := trimData(frames, 10_000)
			allocs := func(fr []ringfeed.Frame) (uint64, uint64) {
				t.Helper()
				var m0, m1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				res, err := ringfeed.Replay(context.Background(), sc.ReplayConfig(), fr, 0)
				runtime.ReadMemStats(&m1)
				if err != nil {
					t.Fatal(err)
				}
				return m1.Mallocs - m0.Mallocs, res.Stats.Messages
			}
			allocs(short) // warm up: first-use allocations in the runtime and packages
			a1, n1 := allocs(short)
			a2, n2 := allocs(frames)
			perMsg := (float64(a2) - float64(a1)) / float64(n2-n1)
			t.Logf("%s: %d allocs for %d messages, %d for %d: %.6f per extra message", sc.Name, a1, n1, a2, n2, perMsg)
			if perMsg > c.bound {
				t.Errorf("%s: got %.6f allocs per message in steady state; want ≤ %g", sc.Name, perMsg, c.bound)
			}
		})
	}
}
