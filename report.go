package ringfeed

import (
	"context"
	"fmt"
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
	Events       uint64 // ring events consumed
	MsgsPerSec   float64
	Latency      LatencyStats // handling latency, last report window
	LatencyTotal LatencyStats // handling latency since start
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

// report runs until ctx ends: it collects histograms and samples ring
// occupancy.
func (e *Engine) report(ctx context.Context) {
	t := time.NewTicker(reportEvery)
	defer t.Stop()
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
		case <-sample.C:
			e.sampleRings()
		case <-t.C:
			e.lat.tick()
			e.delay.tick()
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

// String is the one-line status the CLI prints every few seconds.
func (s Stats) String() string {
	return fmt.Sprintf("msgs/s=%.0f msgs=%d p50=%s p99=%s p99.9=%s max=%s conns=%d/%d reconnects=%d stale=%d/%d ring_high=%d drops=%d resyncs=%d hooks_over=%d",
		s.MsgsPerSec, s.Messages, ns(s.Latency.P50), ns(s.Latency.P99), ns(s.Latency.P999), ns(s.Latency.Max),
		s.Connected, s.Conns, s.Reconnects, s.StaleBooks, s.Books, s.RingHigh, s.RingDrops, s.Resyncs, s.HooksOver)
}

func ns(v int64) string { return time.Duration(v).String() }

// registerGauges exports the reporter's figures.
func (e *Engine) registerGauges() {
	q := func(name string, a *latAggregate, pick func(LatencyStats) int64) {
		e.set.NewGauge(name, func() float64 { return float64(pick(a.lastWindow())) / 1e9 })
	}
	for _, x := range []struct {
		name string
		a    *latAggregate
	}{{"ringfeed_handling_latency_seconds", e.lat}, {"ringfeed_feed_delay_seconds", e.delay}} {
		q(x.name+`{quantile="0.5"}`, x.a, func(s LatencyStats) int64 { return s.P50 })
		q(x.name+`{quantile="0.99"}`, x.a, func(s LatencyStats) int64 { return s.P99 })
		q(x.name+`{quantile="0.999"}`, x.a, func(s LatencyStats) int64 { return s.P999 })
		q(x.name+`{quantile="1"}`, x.a, func(s LatencyStats) int64 { return s.Max })
	}
	e.set.NewGauge(`ringfeed_handling_latency_count`, func() float64 { return float64(e.lat.cumulative().Count) })
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
}

// CollectLatency hands every processor's histogram over now (normally the
// reporter does it every two seconds) and returns the figures since start
// or the last ResetLatency. A processor that is parked hands over at its
// next wake-up or housekeeping (at most 250 ms later).
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
	return e.lat.cumulative()
}
