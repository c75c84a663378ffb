package ringfeed

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ringfeed/ringfeed/parse"
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

// Prometheus bucket bounds of every latency histogram, in ns: 1-2-5 steps
// from 1 µs to 10 s, so histogram_quantile resolves the microsecond range
// the engine works in (VictoriaMetrics' default buckets start at 5 ms).
var promBounds = [...]int64{
	1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5,
	1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8, 5e8,
	1e9, 2e9, 5e9, 1e10,
}

// numBuckets is the bucket count: one per bound and +Inf.
const numBuckets = len(promBounds) + 1

// latHist is what a recorder fills and hands over as one unit: the HDR
// histogram behind the percentiles, and the Prometheus bucket counts and
// sum of the same values (counting them here costs a few compares per
// value; reading them back out of the HDR histogram would allocate a copy
// of its 35k counters every scrape).
type latHist struct {
	h   *hdrhistogram.Histogram
	b   [numBuckets]uint64
	sum int64
}

func newLatHist() *latHist { return &latHist{h: newHist()} }

func (l *latHist) record(v int64) {
	v = clampLat(v)
	_ = l.h.RecordValue(v)
	i := 0
	for i < len(promBounds) && v > promBounds[i] {
		i++
	}
	l.b[i]++
	l.sum += v
}

func (l *latHist) reset() {
	l.h.Reset()
	l.b = [numBuckets]uint64{}
	l.sum = 0
}

// latRecorder is a histogram owned by one goroutine (a processor) that a
// reporter can take away without a lock on the recording path: the owner
// records into cur and, between batches, hands cur over when asked and
// continues in the spare the reporter returned. RecordValue on hdrhistogram
// does not allocate, so recording is a few array operations.
type latRecorder struct {
	cur   *latHist // owner only
	req   atomic.Bool
	ready atomic.Pointer[latHist]
	spare atomic.Pointer[latHist]
}

func newLatRecorder() *latRecorder {
	r := &latRecorder{cur: newLatHist()}
	r.spare.Store(newLatHist())
	r.req.Store(true) // hand the first figures over at the first chance
	return r
}

// record adds one value; owner goroutine only.
func (r *latRecorder) record(ns int64) { r.cur.record(ns) }

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
// into dst (and its buckets into prom, if not nil), returns the emptied
// histogram as the next spare, and asks for another swap.
func (r *latRecorder) collect(prom *promHist, dst ...*hdrhistogram.Histogram) {
	if h := r.ready.Swap(nil); h != nil {
		for _, d := range dst {
			d.Merge(h.h)
		}
		prom.add(h)
		h.reset()
		r.spare.Store(h)
	}
	r.req.Store(true)
}

// drain merges the owner's current histogram once the owner has stopped.
func (r *latRecorder) drain(prom *promHist, dst ...*hdrhistogram.Histogram) {
	r.collect(prom, dst...)
	for _, d := range dst {
		d.Merge(r.cur.h)
	}
	prom.add(r.cur)
	r.cur.reset()
}

// promHist is a cumulative Prometheus histogram (le buckets, _sum,
// _count) fed from the recorders' hand-overs. Safe for concurrent use.
type promHist struct {
	mu    sync.Mutex
	b     [numBuckets]uint64
	sum   int64
	count uint64
}

func (p *promHist) add(h *latHist) {
	if p == nil {
		return
	}
	p.mu.Lock()
	for i, n := range h.b {
		p.b[i] += n
		p.count += n
	}
	p.sum += h.sum
	p.mu.Unlock()
}

// write writes the series of one histogram (no HELP or TYPE line): name is
// the base name ending in _seconds, labels the label pairs without braces
// (may be empty).
func (p *promHist) write(w io.Writer, name, labels string) {
	p.mu.Lock()
	b, sum, count := p.b, p.sum, p.count
	p.mu.Unlock()
	sep := ""
	if labels != "" {
		sep = ","
	}
	var cum uint64
	for i, ub := range promBounds {
		cum += b[i]
		fmt.Fprintf(w, "%s_bucket{%s%sle=\"%s\"} %d\n", name, labels, sep, strconv.FormatFloat(float64(ub)/1e9, 'g', -1, 64), cum)
	}
	fmt.Fprintf(w, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, count)
	if labels != "" {
		labels = "{" + labels + "}"
	}
	fmt.Fprintf(w, "%s_sum%s %s\n", name, labels, strconv.FormatFloat(float64(sum)/1e9, 'g', -1, 64))
	fmt.Fprintf(w, "%s_count%s %d\n", name, labels, count)
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
	prom   promHist     // since start; never reset (Prometheus counters)
}

func newLatAggregate(recs []*latRecorder) *latAggregate {
	return &latAggregate{recs: recs, window: newHist(), total: newHist()}
}

// tick collects from every recorder and closes the current window.
func (a *latAggregate) tick() LatencyStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.recs {
		r.collect(&a.prom, a.window, a.total)
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
		r.drain(&a.prom, a.window, a.total)
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
		r.collect(&a.prom, a.window)
	}
	a.window.Reset()
	a.total.Reset()
	a.last = LatencyStats{}
}

// Latency stages: where a message's handling latency goes, each measured on
// the message's last slot (stamps in parse.Event set by ringSink).
const (
	stageQueue   = iota // socket read → parse start: waiting behind earlier messages of the same read
	stageParse          // parse start → parse end
	stageFlush          // parse end → publish: waiting for the rest of the read's batch
	stageHandoff        // publish → applied: the ring hand-off and the processor's work
	stageWake           // publish → picked up by the processor: the hand-off alone (the wait mode)
	stageApply          // picked up → applied: the processor's work, earlier messages of the batch included
	numStages
)

var stageNames = [numStages]string{"queue", "parse", "flush", "handoff", "wake", "apply"}

// stageRecorders are one processor's per-stage recorders.
type stageRecorders [numStages]*latRecorder

func newStageRecorders() stageRecorders {
	var s stageRecorders
	for i := range s {
		s[i] = newLatRecorder()
	}
	return s
}

// record adds the stages of one applied message; pick is when the
// processor picked up the batch holding it, now when it was applied. A
// message without stamps (a slot the sink did not stamp) is skipped.
func (s *stageRecorders) record(ev *parse.Event, pick, now int64) {
	if ev.PubNs == 0 || ev.ParseNs < ev.RecvNs {
		return
	}
	s[stageQueue].record(ev.ParseNs - ev.RecvNs)
	s[stageParse].record(ev.DoneNs - ev.ParseNs)
	s[stageFlush].record(ev.PubNs - ev.DoneNs)
	s[stageHandoff].record(now - ev.PubNs)
	s[stageWake].record(max(pick, ev.PubNs) - ev.PubNs)
	s[stageApply].record(now - max(pick, ev.PubNs))
}

func (s *stageRecorders) maybeSwap() {
	for _, r := range s {
		r.maybeSwap()
	}
}

// stageAggregates gathers every processor's stage recorders.
type stageAggregates [numStages]*latAggregate

func newStageAggregates(procs []*processor) *stageAggregates {
	var a stageAggregates
	for i := range a {
		recs := make([]*latRecorder, len(procs))
		for j, p := range procs {
			recs[j] = p.stage[i]
		}
		a[i] = newLatAggregate(recs)
	}
	return &a
}

func (a *stageAggregates) tick() {
	for _, x := range a {
		x.tick()
	}
}

func (a *stageAggregates) finish() {
	for _, x := range a {
		x.finish()
	}
}

func (a *stageAggregates) reset() {
	for _, x := range a {
		x.reset()
	}
}

// StageStats is latency by stage, each a percentile summary in ns: where
// the handling latency (frame read → applied) goes.
type StageStats struct {
	Queue   LatencyStats // socket read → parse start (behind earlier messages of the read)
	Parse   LatencyStats // parse start → parse end
	Flush   LatencyStats // parse end → published to the processor
	Handoff LatencyStats // published → applied (the wait mode's hand-off and the processor's work)
	// Handoff in two: Wake is published → picked up by the processor (the
	// wait mode alone), Apply is picked up → applied (the processor's
	// work on the message and on those before it in the batch).
	Wake, Apply LatencyStats
}

func (a *stageAggregates) stats(pick func(*latAggregate) LatencyStats) StageStats {
	return StageStats{Queue: pick(a[stageQueue]), Parse: pick(a[stageParse]), Flush: pick(a[stageFlush]), Handoff: pick(a[stageHandoff]),
		Wake: pick(a[stageWake]), Apply: pick(a[stageApply])}
}
