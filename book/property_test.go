package book

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPropertyRandomStreams runs long random streams of snapshots (whole,
// split, cut short, u == 1, repeated u), deltas (gaps, rewinds, restarts,
// crossing levels, absent deletes, negative sizes), caller marks and resets
// through a Book and the map-based model, comparing contents, best levels,
// top-N, sums, stale state, header, counters and the published top after
// every message. It also checks that the streams reached every reason and
// every counter, so a generator that stopped producing faults would fail.
//
// This version is scaled to run under the race detector; the long one is
// TestNoRacePropertyRandomStreams.
func TestPropertyRandomStreams(t *testing.T) {
	propertyStreams(t, 600, 0)
}

// propertyStreams runs streams of the given number of events for every
// configuration, with seeds from seedBase on.
func propertyStreams(t *testing.T, events int, seedBase uint64) {
	var seen Counters
	for _, depth := range []int{0, 5, 50} {
		for _, policy := range []GapPolicy{Strict, Monotonic} {
			for _, degree := range []int{2, 3, DefaultDegree} {
				cfg := Config{Depth: depth, Policy: policy, Degree: degree}
				t.Run(fmt.Sprintf("depth=%d/%v/degree=%d", depth, policy, degree), func(t *testing.T) {
					for seed := seedBase; seed < seedBase+3; seed++ {
						h := newHarness(t, cfg)
						g := &gen{r: rand.New(rand.NewPCG(seed, uint64(depth*100+degree))), spread: 40, u: 1000}
						if depth == 50 {
							g.spread = 60
						}
						var ops []op
						for range events {
							ops = g.next(ops[:0])
							for _, o := range ops {
								h.do(o)
							}
						}
						c := h.b.Counters()
						seen.Snapshots += c.Snapshots
						seen.Restarts += c.Restarts
						seen.Deltas += c.Deltas
						seen.Levels += c.Levels
						seen.Ignored += c.Ignored
						seen.Gaps += c.Gaps
						seen.Duplicates += c.Duplicates
						seen.Crosses += c.Crosses
						seen.AbsentDeletes += c.AbsentDeletes
						seen.Evictions += c.Evictions
						seen.Abandoned += c.Abandoned
						for r := range c.StaleBy {
							seen.StaleBy[r] += c.StaleBy[r]
						}
					}
				})
			}
		}
	}
	f := func(name string, n uint64) {
		t.Helper()
		if n == 0 {
			t.Errorf("%s: got 0 over all streams; want > 0 (the generator no longer exercises it)", name)
		}
	}
	f("Snapshots", seen.Snapshots)
	f("Restarts", seen.Restarts)
	f("Deltas", seen.Deltas)
	f("Levels", seen.Levels)
	f("Ignored", seen.Ignored)
	f("Gaps", seen.Gaps)
	f("Duplicates", seen.Duplicates)
	f("Crosses", seen.Crosses)
	f("AbsentDeletes", seen.AbsentDeletes)
	f("Evictions", seen.Evictions)
	f("Abandoned", seen.Abandoned)
	for r := ReasonDeltaBeforeSnapshot; r < numReasons; r++ {
		if r == ReasonOutOfOrder {
			continue // duplicates and older deltas are dropped, not stale
		}
		f("StaleBy["+r.String()+"]", seen.StaleBy[r])
	}
	t.Logf("totals: %+v", seen)
}
