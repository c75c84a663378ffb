package ringfeed

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/net/rest"
)

// refiller runs the engine's REST work for processors off their
// goroutines: kline history fills, trade tape refills after a loss, and
// instruments-info re-reads after a book restart. A processor hands it a
// job from housekeeping (never blocking); a worker makes the REST calls
// through the engine's one rest.Client (its limiter keeps every caller
// within Bybit's budget) and hands the result back to the owning processor
// as a query, so only the processor writes its state (DESIGN.md rule 1).
type refiller struct {
	e    *Engine
	rc   *rest.Client
	jobs chan refillJob
	m    *refillMetrics
}

// refillJob is one REST task. fetch runs on a worker and returns the
// function that applies its result on the processor; fail runs on the
// processor when fetch failed or the job could not be queued, and re-arms
// the request so a later housekeeping retries it.
type refillJob struct {
	p     *processor
	what  string // "kline", "trades", "instrument": logs and metrics
	sym   string
	fetch func(ctx context.Context) (apply func(), err error)
	fail  func()
}

// refillWorkers is how many REST calls may be in flight at once: enough to
// refill a few hundred symbols after a reconnect within seconds at
// Bybit's round trip, few enough that the limiter, not the workers, is
// what bounds the rate.
const refillWorkers = 4

func newRefiller(e *Engine, rc *rest.Client) *refiller {
	return &refiller{e: e, rc: rc, jobs: make(chan refillJob, 4096), m: newRefillMetrics(e.set)}
}

// request queues j; called by a processor, it never blocks.
func (r *refiller) request(j refillJob) {
	select {
	case r.jobs <- j:
	default:
		j.fail()
	}
}

func (r *refiller) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range refillWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
}

func (r *refiller) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-r.jobs:
			apply, err := j.fetch(ctx)
			// No timeout: the job's state (filling) is the processor's,
			// so the result must reach it however long it is busy; a
			// stalled processor has nothing else for this worker.
			qerr := r.e.query(ctx, j.p, func() {
				if err != nil {
					j.fail()
					return
				}
				apply()
			})
			if err == nil && qerr == nil {
				continue
			}
			r.m.failed(j.what).Inc()
			if ok, n := r.e.logLimit.allow("refill:" + j.what); ok {
				r.e.log.Warn("REST refill failed; retrying later", "what", j.what, "symbol", j.sym, "err", err, "query", qerr, "suppressed", n)
			}
			// Back off before the processor asks again; the client
			// already retried what a retry can cure.
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// refillMetrics are the REST refill counters.
type refillMetrics struct {
	set                     *metrics.Set
	fails                   sync.Map // what → *metrics.Counter
	tradeRefills, tradeGaps *metrics.Counter
	tradesRefilled          *metrics.Counter
	tradeGapSeconds         *metrics.FloatCounter
	tradeOverlaps           *metrics.Counter
	instrumentReloads       *metrics.Counter
	scaleChanges            *metrics.Counter
}

func newRefillMetrics(set *metrics.Set) *refillMetrics {
	return &refillMetrics{
		set:               set,
		tradeRefills:      set.NewCounter(`ringfeed_trade_refills_total`),
		tradesRefilled:    set.NewCounter(`ringfeed_trades_refilled_total`),
		tradeOverlaps:     set.NewCounter(`ringfeed_trades_refill_overlap_total`),
		tradeGaps:         set.NewCounter(`ringfeed_trade_gaps_unrecovered_total`),
		tradeGapSeconds:   set.NewFloatCounter(`ringfeed_trade_gap_unrecovered_seconds_total`),
		instrumentReloads: set.NewCounter(`ringfeed_instrument_reloads_total`),
		scaleChanges:      set.NewCounter(`ringfeed_instrument_scale_changes_total`),
	}
}

func (m *refillMetrics) failed(what string) *metrics.Counter {
	if c, ok := m.fails.Load(what); ok {
		return c.(*metrics.Counter)
	}
	c := m.set.GetOrCreateCounter(fmt.Sprintf(`ringfeed_rest_refill_failures_total{what=%q}`, what))
	m.fails.Store(what, c)
	return c
}
