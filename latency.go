package ringfeed

import (
	"sync"
	"sync/atomic"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histograms cover 10 ns .. 60 s at 3 significant digits: the
// smallest handling latency a processor can see is a few tens of
// nanoseconds and a stalled one is clamped at the top rather than lost.
const (
	latMin   = 10
	latMax   = 60_000_000_000
	latDigit = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(latMin, latMax, latDigit) }

func clampLat(v int64) int64 {
	if v < latMin {
		return latMin
	}
	if v > latMax {
		return latMax
	}
	return v
}

// latRecorder is a histogram owned by one goroutine (a processor) that a
// reporter can take away without a lock on the recording path: the owner
// records into cur and, between batches, hands cur over when asked and
// continues in the spare the reporter returned. RecordValue on hdrhistogram
// does not allocate, so recording is a few array operations.
type latRecorder struct {
	cur   *hdrhistogram.Histogram // owner only
	req   atomic.Bool             // reporter wants a swap
	ready atomic.Pointer[hdrhistogram.Histogram]
	spare atomic.Pointer[hdrhistogram.Histogram]
}

func newLatRecorder() *latRecorder {
	r := &latRecorder{cur: newHist()}
	r.spare.Store(newHist())
	r.req.Store(true) // hand the first figures over at the first chance
	return r
}

// record adds one value; owner goroutine only.
func (r *latRecorder) record(ns int64) { _ = r.cur.RecordValue(clampLat(ns)) }

// maybeSwap is called by the owner between batches: one atomic load when no
// swap is pending.
func (r *latRecorder) maybeSwap() {
	if !r.req.Load() || r.ready.Load() != nil {
		return
	}
	sp := r.spare.Swap(nil)
	if sp == nil {
		return
	}
	r.ready.Store(r.cur)
	r.cur = sp
	r.req.Store(false)
}

// collect is called by the reporter: it merges what the owner handed over
// into dst, returns the emptied histogram as the next spare, and asks for
// another swap.
func (r *latRecorder) collect(dst ...*hdrhistogram.Histogram) {
	if h := r.ready.Swap(nil); h != nil {
		for _, d := range dst {
			d.Merge(h)
		}
		h.Reset()
		r.spare.Store(h)
	}
	r.req.Store(true)
}

// drain merges the owner's current histogram once the owner has stopped.
func (r *latRecorder) drain(dst ...*hdrhistogram.Histogram) {
	r.collect(dst...)
	for _, d := range dst {
		d.Merge(r.cur)
	}
	r.cur.Reset()
}

// LatencyStats is a percentile summary in nanoseconds.
type LatencyStats struct {
	Count               int64
	P50, P99, P999, Max int64
	Mean                float64
}

func statsOf(h *hdrhistogram.Histogram) LatencyStats {
	if h.TotalCount() == 0 {
		return LatencyStats{}
	}
	return LatencyStats{
		Count: h.TotalCount(),
		P50:   h.ValueAtQuantile(50),
		P99:   h.ValueAtQuantile(99),
		P999:  h.ValueAtQuantile(99.9),
		Max:   h.Max(),
		Mean:  h.Mean(),
	}
}

// latAggregate gathers several recorders (one per processor) into a window
// (since the last report) and a cumulative histogram.
type latAggregate struct {
	mu     sync.Mutex
	recs   []*latRecorder
	window *hdrhistogram.Histogram
	total  *hdrhistogram.Histogram
	last   LatencyStats // the previous window's figures
}

func newLatAggregate(recs []*latRecorder) *latAggregate {
	return &latAggregate{recs: recs, window: newHist(), total: newHist()}
}

// tick collects from every recorder and closes the current window.
func (a *latAggregate) tick() LatencyStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.recs {
		r.collect(a.window, a.total)
	}
	a.last = statsOf(a.window)
	a.window.Reset()
	return a.last
}

// finish drains stopped recorders into the totals.
func (a *latAggregate) finish() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.recs {
		r.drain(a.window, a.total)
	}
	a.last = statsOf(a.window)
	a.window.Reset()
}

func (a *latAggregate) lastWindow() LatencyStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

func (a *latAggregate) cumulative() LatencyStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return statsOf(a.total)
}

// reset drops everything collected so far (benchmarks call it after
// warm-up). Values still in the owners' current histograms arrive later.
func (a *latAggregate) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.recs {
		r.collect(a.window)
	}
	a.window.Reset()
	a.total.Reset()
	a.last = LatencyStats{}
}
