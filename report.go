package ringfeed

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// reportEvery is how often processors hand their histograms over and the
// window figures (status line, quantile gauges) are recomputed.
const reportEvery = time.Second

// probeEvery is how often the clock offset behind the feed-delay figures
// is re-estimated.
const probeEvery = 10 * time.Minute

// Stats is a snapshot of the engine's figures, for the status line, the
// exit summary and tests.
type Stats struct {
	Uptime       time.Duration
	Messages     uint64 // messages applied (all kinds)
	Lent         uint64 // of those, applied by a reader for its parked processor (Config.NoLend)
	Events       uint64 // ring events consumed
	MsgsPerSec   float64
	Latency      LatencyStats // handling latency, last report window
	LatencyTotal LatencyStats // handling latency since start
	Stages       StageStats   // latency by stage, last report window
	StagesTotal  StageStats   // latency by stage since start
	FeedDelay    LatencyStats // exchange ts → receive, last window
	Connected    int
	Conns        int
	Reconnects   uint64
	StaleBooks   int
	Books        int
	RingHigh     int // highest ring occupancy seen by the reporter
	RingDrops    uint64
	RecordDrops  uint64 // frames the capture could not keep up with
	HooksOver    uint64
	Resyncs      uint64
}

type reporter struct {
	mu       sync.Mutex
	lastMsgs uint64
	lastAt   time.Time
	rate     float64
	ringHigh atomic.Int64
}

// report runs until ctx ends: it collects histograms, samples ring
// occupancy, and is the processors' housekeeping clock: every
// housekeepEvery it flags each processor's housekeeping as due and rings
// its bell, so a parked processor wakes for it without a timer of its own
// and a spinning one reads no clock in its loop.
func (e *Engine) report(ctx context.Context) {
	t := time.NewTicker(reportEvery)
	defer t.Stop()
	house := time.NewTicker(housekeepEvery)
	defer house.Stop()
	sample := time.NewTicker(100 * time.Millisecond)
	defer sample.Stop()
	// Clocks drift: re-estimate the exchange clock offset now and then
	// (single-flight, off every hot path).
	reprobe := time.NewTicker(probeEvery)
	defer reprobe.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reprobe.C:
			if !e.cfg.replay {
				e.probe.Trigger()
			}
		case <-house.C:
			for _, p := range e.procs {
				p.houseDue.Store(true)
				p.bell.Ring()
			}
		case <-sample.C:
			e.sampleRings()
		case <-t.C:
			e.lat.tick()
			e.delay.tick()
			e.stages.tick()
			e.rep.mu.Lock()
			now := time.Now()
			n := e.messages()
			if !e.rep.lastAt.IsZero() {
				e.rep.rate = float64(n-e.rep.lastMsgs) / now.Sub(e.rep.lastAt).Seconds()
			}
			e.rep.lastMsgs, e.rep.lastAt = n, now
			e.rep.mu.Unlock()
		}
	}
}

func (e *Engine) messages() uint64 {
	var n uint64
	for _, p := range e.procs {
		n += p.applied.Load()
	}
	return n
}

// Stats returns the current figures. Safe from any goroutine.
func (e *Engine) Stats() Stats {
	if len(e.cats) > 0 {
		return e.multiStats()
	}
	s := Stats{
		Messages:     e.messages(),
		Latency:      e.lat.lastWindow(),
		LatencyTotal: e.lat.cumulative(),
		Stages:       e.stages.stats((*latAggregate).lastWindow),
		StagesTotal:  e.stages.stats((*latAggregate).cumulative),
		FeedDelay:    e.delay.lastWindow(),
		Conns:        len(e.conns),
		RingHigh:     int(e.rep.ringHigh.Load()),
		RingDrops:    e.ringDrops(),
		Resyncs:      e.m.resyncs.Get(),
	}
	if !e.started.IsZero() {
		s.Uptime = time.Since(e.started)
	}
	if e.rec != nil {
		s.RecordDrops = e.rec.dropped()
	}
	for _, p := range e.procs {
		s.Events += p.events.Load()
		s.Lent += p.lent.Load()
		s.HooksOver += p.hookOver.Load()
	}
	e.rep.mu.Lock()
	s.MsgsPerSec = e.rep.rate
	e.rep.mu.Unlock()
	for _, c := range e.conns {
		if c.sess != nil {
			if c.sess.Connected() {
				s.Connected++
			}
			s.Reconnects += uint64(c.sess.Stats().Reconnects)
		}
		for _, st := range c.syms {
			for _, bs := range st.books {
				s.Books++
				if q, ok := bs.b.Top().Load(); !ok || q.Stale {
					s.StaleBooks++
				}
			}
		}
	}
	return s
}

// String is the one-line status the CLI prints every few seconds: the
// last window's handling latency, then each stage's p50/p99 (queue: behind
// earlier messages of the same socket read; parse; flush: waiting for the
// read's batch to be published; handoff: published → applied, split
// into wake: published → picked up by the processor, and apply).
func (s Stats) String() string {
	st := &s.Stages
	return fmt.Sprintf("msgs/s=%.0f msgs=%d p50=%s p99=%s p99.9=%s max=%s queue=%s/%s parse=%s/%s flush=%s/%s handoff=%s/%s wake=%s/%s apply=%s/%s conns=%d/%d reconnects=%d stale=%d/%d ring_high=%d drops=%d resyncs=%d hooks_over=%d",
		s.MsgsPerSec, s.Messages, ns(s.Latency.P50), ns(s.Latency.P99), ns(s.Latency.P999), ns(s.Latency.Max),
		ns(st.Queue.P50), ns(st.Queue.P99), ns(st.Parse.P50), ns(st.Parse.P99),
		ns(st.Flush.P50), ns(st.Flush.P99), ns(st.Handoff.P50), ns(st.Handoff.P99),
		ns(st.Wake.P50), ns(st.Wake.P99), ns(st.Apply.P50), ns(st.Apply.P99),
		s.Connected, s.Conns, s.Reconnects, s.StaleBooks, s.Books, s.RingHigh, s.RingDrops, s.Resyncs, s.HooksOver)
}

func ns(v int64) string { return time.Duration(v).String() }

// registerGauges exports the reporter's figures. The latency histograms
// are written apart (writeHistograms); the gauges here keep the last
// report window's quantiles, the figures of the status line.
func (e *Engine) registerGauges() {
	q := func(name string, a *latAggregate, pick func(LatencyStats) int64) {
		e.set.NewGauge(name, func() float64 { return float64(pick(a.lastWindow())) / 1e9 })
	}
	for _, x := range []struct {
		name string
		a    *latAggregate
	}{{"ringfeed_handling_latency_window_seconds", e.lat}, {"ringfeed_feed_delay_window_seconds", e.delay}} {
		// A stat label, not quantile: these are gauges, and quantile is
		// the label of a summary.
		q(x.name+`{stat="p50"}`, x.a, func(s LatencyStats) int64 { return s.P50 })
		q(x.name+`{stat="p99"}`, x.a, func(s LatencyStats) int64 { return s.P99 })
		q(x.name+`{stat="p99.9"}`, x.a, func(s LatencyStats) int64 { return s.P999 })
		q(x.name+`{stat="max"}`, x.a, func(s LatencyStats) int64 { return s.Max })
	}
	e.registerEngineGauges()
}

// ResetLatency discards the latency and feed-delay figures collected so
// far, so a benchmark can measure after its warm-up. Values a processor
// recorded but has not handed over yet may still arrive.
func (e *Engine) ResetLatency() {
	for _, c := range e.cats {
		c.ResetLatency()
	}
	if len(e.cats) > 0 {
		return
	}
	e.lat.reset()
	e.delay.reset()
	e.stages.reset()
}

// CollectLatency collects what every processor has handed over (normally
// the reporter does it every second) and returns the figures since start
// or the last ResetLatency. A processor hands over at its next
// housekeeping tick, at most 50 ms after it is asked, parked or not.
func (e *Engine) CollectLatency() LatencyStats {
	if len(e.cats) > 0 {
		var worst LatencyStats
		for _, c := range e.cats {
			if s := c.CollectLatency(); s.P99 >= worst.P99 {
				worst = s
			}
		}
		return worst
	}
	e.lat.tick()
	e.delay.tick()
	e.stages.tick()
	return e.lat.cumulative()
}

// CollectStages is CollectLatency's companion for latency by stage: the
// figures since start or the last ResetLatency. Call it after
// CollectLatency, which hands the histograms over.
func (e *Engine) CollectStages() StageStats {
	return e.stages.stats((*latAggregate).cumulative)
}

// writeHistograms writes the latency histograms in the Prometheus text
// format: handling latency (frame read → applied), feed delay (exchange ts
// → receive) and latency by stage, cumulative since start, with le buckets
// from 1 µs to 10 s. The processors hand their figures over every
// reportEvery, so a scrape lags by up to that.
func (e *Engine) writeHistograms(w io.Writer) {
	meta := func(name string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, metricHelp[name], name)
	}
	meta("ringfeed_handling_latency_seconds")
	e.lat.prom.write(w, "ringfeed_handling_latency_seconds", "")
	meta("ringfeed_feed_delay_seconds")
	e.delay.prom.write(w, "ringfeed_feed_delay_seconds", "")
	meta("ringfeed_stage_latency_seconds")
	for i, a := range e.stages {
		a.prom.write(w, "ringfeed_stage_latency_seconds", `stage="`+stageNames[i]+`"`)
	}
}
