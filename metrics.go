package ringfeed

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/kline"
)

// engineMetrics are the engine's own series (prefix ringfeed_). Counters
// are atomic adds, safe on the processor's hot path; anything that needs a
// lock (percentiles) is computed by the reporter goroutine and exported as
// gauges.
//
// The exposition carries TYPE and HELP lines (metrics.ExposeMetadata, a
// process-wide switch of VictoriaMetrics/metrics that New turns on): every
// _total series is a counter. Figures another goroutine keeps (messages
// applied, hook time, wsconn's frame counts) are copied into counters by
// syncMetrics before each scrape, because the library's only callback
// metric is a gauge. The library writes HELP lines without text;
// writeCategorySets fills them in from metricHelp.
type engineMetrics struct {
	set *metrics.Set

	stale      [book.NumReasons]*metrics.Counter
	recovered  *metrics.Counter
	resyncs    *metrics.Counter
	klines     [kline.NumOutcomes]*metrics.Counter
	trades     *metrics.Counter
	tradeDups  *metrics.Counter
	tradesLost *metrics.Counter
	hookOver   [numHooks]*metrics.Counter
	unowned    *metrics.Counter
	unexpected *metrics.Counter
	ringDrops  *metrics.Counter
	ringFull   *metrics.Counter
}

func newEngineMetrics(set *metrics.Set) *engineMetrics {
	metrics.ExposeMetadata(true)
	m := &engineMetrics{set: set}
	for r := range book.NumReasons {
		m.stale[r] = set.NewCounter(fmt.Sprintf(`ringfeed_books_stale_total{reason=%q}`, book.Reason(r).String()))
	}
	m.recovered = set.NewCounter(`ringfeed_books_recovered_total`)
	m.resyncs = set.NewCounter(`ringfeed_resyncs_requested_total`)
	for o := range m.klines {
		m.klines[o] = set.NewCounter(fmt.Sprintf(`ringfeed_kline_updates_total{outcome=%q}`, kline.Outcome(o).String()))
	}
	m.trades = set.NewCounter(`ringfeed_trades_total`)
	m.tradeDups = set.NewCounter(`ringfeed_trades_duplicate_total`)
	m.tradesLost = set.NewCounter(`ringfeed_trade_messages_lost_total`)
	for k := range numHooks {
		m.hookOver[k] = set.NewCounter(fmt.Sprintf(`ringfeed_hooks_over_budget_total{hook=%q}`, hookNames[k]))
	}
	m.unowned = set.NewCounter(`ringfeed_events_unowned_total`)
	m.unexpected = set.NewCounter(`ringfeed_events_unexpected_total`)
	return m
}

// forConn returns the metrics a connection's sink counts into: the
// engine's, with the ring counters of that connection (labels such as
// `conn="0",category="linear"`).
func (m *engineMetrics) forConn(labels string) *engineMetrics {
	c := *m
	c.ringDrops = m.set.NewCounter(`ringfeed_ring_drops_total{` + labels + `}`)
	c.ringFull = m.set.NewCounter(`ringfeed_ring_full_waits_total{` + labels + `}`)
	return &c
}

// buildVersion returns ringfeed's module version (the main module's when
// ringfeed is the program, the dependency's when it is a library) and the
// Go version it was built with.
func buildVersion() (version, goversion string) {
	version, goversion = "unknown", runtime.Version()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version, goversion
	}
	const module = "github.com/ringfeed/ringfeed"
	switch {
	case info.Main.Path == module:
		version = info.Main.Version
	default:
		for _, d := range info.Deps {
			if d.Path == module {
				version = d.Version
			}
		}
	}
	if version == "" {
		version = "(devel)"
	}
	return version, goversion
}

// syncedCounter is a counter whose value another part of the engine keeps;
// syncMetrics copies it in before a scrape.
type syncedCounter struct {
	c *metrics.Counter
	f func() uint64
}

// registerEngineGauges exports the per-connection ring figures and the
// processors' own tallies.
func (e *Engine) registerEngineGauges() {
	for _, c := range e.conns {
		r, high := c.ring, &c.ringHigh
		e.set.NewGauge(`ringfeed_ring_occupancy{`+c.labels+`}`, func() float64 { return float64(r.Len()) })
		e.set.NewGauge(`ringfeed_ring_high_water{`+c.labels+`}`, func() float64 { return float64(high.Load()) })
	}
	e.set.NewGauge(`ringfeed_books_stale`, func() float64 { return float64(e.Stats().StaleBooks) })
	e.synced = append(e.synced, syncedCounter{e.set.NewCounter(`ringfeed_messages_applied_total`), e.messages})
	e.synced = append(e.synced, syncedCounter{e.set.NewCounter(`ringfeed_messages_lent_total`), func() uint64 {
		var n uint64
		for _, p := range e.procs {
			n += p.lent.Load()
		}
		return n
	}})
	for k := range numHooks {
		fc := e.set.NewFloatCounter(`ringfeed_hook_seconds_total{hook="` + hookNames[k] + `"}`)
		e.syncedF = append(e.syncedF, func() {
			var t int64
			for _, p := range e.procs {
				t += p.hookNs[k].Load()
			}
			fc.Set(float64(t) / 1e9)
		})
		e.synced = append(e.synced, syncedCounter{e.set.NewCounter(`ringfeed_hook_calls_total{hook="` + hookNames[k] + `"}`), func() uint64 {
			var t uint64
			for _, p := range e.procs {
				t += p.hookCalls[k].Load()
			}
			return t
		}})
	}
}

// syncMetrics copies the figures other parts keep into their counters.
func (e *Engine) syncMetrics() {
	for _, s := range e.synced {
		s.c.Set(s.f())
	}
	for _, f := range e.syncedF {
		f()
	}
	for _, c := range e.conns {
		if c.sess != nil {
			c.sess.SyncMetrics()
		}
	}
}

// sampleRings records each ring's occupancy in its high-water mark.
func (e *Engine) sampleRings() {
	for _, c := range e.conns {
		n := int64(c.ring.Len())
		if n > c.ringHigh.Load() {
			c.ringHigh.Store(n)
		}
		if n > e.rep.ringHigh.Load() {
			e.rep.ringHigh.Store(n)
		}
	}
}

// ringDrops is the number of events dropped on every ring.
func (e *Engine) ringDrops() uint64 {
	var n uint64
	for _, c := range e.conns {
		n += c.sink.m.ringDrops.Get()
	}
	return n
}

func (m *engineMetrics) staleBy(r book.Reason) *metrics.Counter {
	if int(r) >= len(m.stale) {
		r = book.ReasonNone
	}
	return m.stale[r]
}

func (m *engineMetrics) klineOutcome(o kline.Outcome) *metrics.Counter {
	if int(o) >= len(m.klines) {
		o = 0
	}
	return m.klines[o]
}

// WritePrometheus writes every engine, session and process metric in the
// Prometheus text format.
//
// Every ringfeed_ series but ringfeed_build_info carries a category label:
// the engine's metrics set has none on its engine-wide series, so
// writeCategorySets adds it while writing (and merges the sets of an
// engine serving several categories into one exposition).
func (e *Engine) WritePrometheus(w io.Writer) {
	e.writeCategorySets(w)
	version, goversion := buildVersion()
	fmt.Fprintf(w, "# HELP ringfeed_build_info %s\n# TYPE ringfeed_build_info gauge\nringfeed_build_info{version=%q,goversion=%q} 1\n",
		metricHelp["ringfeed_build_info"], version, goversion)
	metrics.WriteProcessMetrics(w)
}
