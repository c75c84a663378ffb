package ringfeed

import (
	"context"
	"fmt"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/wsconn"
)

// Book anomalies (issue 14 item 15): events that do not make a book stale
// but say something about the feed, each exported as
// ringfeed_book_anomalies_total{reason} and logged rate-limited per symbol
// and reason.
//   - restart: a message with u == 1 (Bybit restarted the stream, or the
//     tick or lot size changed); the instrument is re-read from REST.
//   - absent_delete: a delta deleted a price the book did not hold.
//   - trim: levels beyond the depth were evicted (Bybit deletes them
//     itself, so a trim means a delete was lost or came late).
//   - duplicate: a delta whose u was not above the last was dropped.
//   - crossed: a message left the book crossed (it also goes stale).
const (
	anomRestart = iota
	anomAbsentDelete
	anomTrim
	anomDuplicate
	anomCrossed
	numAnomalies
)

var anomalyNames = [numAnomalies]string{"restart", "absent_delete", "trim", "duplicate", "crossed"}

// anomalyCounts are a book's counters as last exported.
type anomalyCounts [numAnomalies]uint64

func countsOf(c *book.Counters) anomalyCounts {
	return anomalyCounts{c.Restarts, c.AbsentDeletes, c.Evictions, c.Duplicates, c.Crosses}
}

type anomalyMetrics [numAnomalies]*metrics.Counter

func newAnomalyMetrics(set *metrics.Set) *anomalyMetrics {
	var m anomalyMetrics
	for i := range m {
		m[i] = set.NewCounter(fmt.Sprintf(`ringfeed_book_anomalies_total{reason=%q}`, anomalyNames[i]))
	}
	return &m
}

// anomalies exports what the last message added to bs's anomaly counters,
// and asks for the instrument to be re-read after a restart. It runs after
// every applied book message: a handful of compares, no allocation.
func (p *processor) anomalies(st *symState, bs *bookState) {
	c := bs.b.Counters()
	now := countsOf(&c)
	if now == bs.seen {
		return
	}
	for i := range now {
		d := now[i] - bs.seen[i]
		if d == 0 {
			continue
		}
		p.e.anom[i].Add(int(d))
		if ok, n := p.e.logLimit.allow("anomaly:" + anomalyNames[i] + ":" + st.name); ok {
			p.e.log.Warn("book anomaly", "symbol", st.name, "depth", bs.depth, "reason", anomalyNames[i],
				"count", d, "u", bs.b.Header().U, "suppressed", n)
		}
		if i == anomRestart {
			st.reloadInstrument = true
		}
	}
	bs.seen = now
}

// instrumentJob re-reads st's instrument after a restart (u == 1): Bybit
// resets u on a tick or lot size change (protocol notes §2.3, §6.4). If
// the scales changed, every stream of the symbol was parsed with the old
// ones: books and ticker are resynced, the tape emptied and the kline
// windows refilled.
func (p *processor) instrumentJob(st *symState) refillJob {
	e := p.e
	return refillJob{
		p: p, what: "instrument", sym: st.name,
		fetch: func(ctx context.Context) (func(), error) {
			list, err := e.refill.rc.Instruments(ctx, string(e.cfg.Category), st.name)
			if err != nil {
				return nil, err
			}
			if len(list) != 1 || list[0].Symbol != st.name {
				return nil, fmt.Errorf("instruments-info for %s: %d entries", st.name, len(list))
			}
			in := list[0]
			return func() {
				e.refill.m.instrumentReloads.Inc()
				changed, err := e.setScales(st.id, &in)
				if err != nil {
					e.log.Warn("instrument scales unusable; keeping the old ones", "symbol", st.name, "err", err)
					return
				}
				if changed {
					e.refill.m.scaleChanges.Inc()
					p.rescaled(st)
				}
			}, nil
		},
		fail: func() { st.reloadInstrument = true },
	}
}

// rescaled drops everything held for st in the old scales.
func (p *processor) rescaled(st *symState) {
	ps, ss := p.e.syms.Scales(st.id)
	p.e.log.Warn("instrument scales changed; resyncing the symbol", "symbol", st.name, "price_decimals", ps, "size_decimals", ss)
	now := wsconn.Nanotime()
	for _, bs := range st.books {
		if bs.b.MarkStale(book.ReasonResync) {
			p.wentStale(st, bs, book.ReasonResync)
		} else {
			p.resync(st, bs, now)
		}
	}
	if st.ticker != nil {
		p.tickerStale(st, now, true)
	}
	if st.tape != nil {
		st.tape.Reset()
	}
	for _, ks := range st.klines {
		ks.w.Reset()
		ks.needFill, ks.full = true, true
	}
}
