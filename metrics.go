package ringfeed

import (
	"fmt"
	"io"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/kline"
)

// engineMetrics are the engine's own series (prefix ringfeed_). Counters
// are atomic adds, safe on the processor's hot path; anything that needs a
// lock (percentiles) is computed by the reporter goroutine and exported as
// gauges.
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
	m.ringDrops = set.NewCounter(`ringfeed_ring_drops_total`)
	m.ringFull = set.NewCounter(`ringfeed_ring_full_waits_total`)
	return m
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
func (e *Engine) WritePrometheus(w io.Writer) {
	e.m.set.WritePrometheus(w)
	e.writeHistograms(w)
	metrics.WriteProcessMetrics(w)
}
