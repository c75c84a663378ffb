package ringfeed

import (
	"context"
	"fmt"
	"time"

	"github.com/ringfeed/ringfeed/net/rest"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/tape"
)

// tradeFill is a symbol's trade-refill bookkeeping, owned by its processor.
// Trades lost to ring-full drops or a reconnect are refilled from GET
// /v5/market/recent-trade (protocol notes §2.6), which reaches only the
// newest 1000 trades (60 on spot): what is older is counted and logged.
type tradeFill struct {
	need, filling bool
	fails         int // refills failed in a row: spaces the next ones
	// anchor is the newest trade taped before the first loss not yet
	// refilled: a refill that reaches it closed the gap.
	anchor tape.Anchor
	since  int64 // Nanotime of that loss
}

// tradeRefillSettle lets a burst of drop markers for one symbol (a stalled
// processor drops many messages) end before the refill asks REST, so the
// burst costs one call.
const tradeRefillSettle = int64(200 * time.Millisecond)

// lostTrades records that st's trade stream lost messages: its tape needs a
// refill, and its kline windows a refresh (the same loss hit them).
func (p *processor) lostTrades(st *symState, now int64) {
	if st.tape == nil {
		return
	}
	if !st.tf.need {
		st.tf.need = true
		st.tf.anchor = st.tape.AnchorOf()
		st.tf.since = now
	}
	for _, ks := range st.klines {
		ks.needFill = true
	}
}

// tradeJob refills st's tape. The REST call runs on a refill worker; the
// merge, the metrics and the OnTrade hook for each recovered trade run on
// the processor.
func (p *processor) tradeJob(st *symState) refillJob {
	e := p.e
	anchor := st.tf.anchor
	cat := string(e.cfg.Category)
	limit := rest.MaxTrades(cat)
	return refillJob{
		p: p, what: "trades", sym: st.name,
		fetch: func(ctx context.Context) (func(), error) {
			rows, err := e.refill.rc.RecentTrades(ctx, cat, st.name, limit)
			if err != nil {
				return nil, err
			}
			trs, seqs, err := e.restTrades(rows, st.id)
			if err != nil {
				return nil, err
			}
			return func() { p.refilled(st, trs, seqs, len(rows), limit, anchor) }, nil
		},
		fail: func() {
			tf := &st.tf
			tf.filling = false
			tf.need = true
			tf.anchor = anchor // the older loss is still open
			// REST may be down for long (a geo-block): space the
			// retries, 1 s doubling to a minute.
			tf.fails++
			tf.since = wsconn.Nanotime() + int64(min(time.Second<<min(tf.fails-1, 6), time.Minute))
		},
	}
}

// refilled merges a recent-trade answer into st's tape (processor
// goroutine).
func (p *processor) refilled(st *symState, trs []parse.Trade, seqs []int64, got, limit int, anchor tape.Anchor) {
	st.tf.filling = false
	st.tf.fails = 0
	m := p.e.refill.m
	// A row skipped in conversion must not make the answer look short:
	// only a truly short answer proves completeness.
	if got > len(trs) {
		limit = len(trs)
	}
	res := st.tape.Refill(trs, seqs, limit, anchor)
	m.tradeRefills.Inc()
	m.tradesRefilled.Add(len(res.Added))
	p.e.m.trades.Add(len(res.Added))
	if !res.Reached {
		// Without an anchor (nothing taped before the loss) the start
		// of the gap is unknown: counted, with no span.
		m.tradeGaps.Inc()
		from := any("unknown")
		if res.GapFrom > 0 {
			from = time.UnixMilli(res.GapFrom).UTC()
			if span := res.GapTo - res.GapFrom; span > 0 {
				m.tradeGapSeconds.Add(float64(span) / 1e3)
			}
		}
		if ok, n := p.e.logLimit.allow("tradegap:" + st.name); ok {
			p.e.log.Warn("trades lost beyond REST's reach", "symbol", st.name,
				"from", from, "to", time.UnixMilli(res.GapTo).UTC(),
				"refilled", len(res.Added), "suppressed", n)
		}
	}
	if len(p.e.hooks.trade) > 0 {
		for i := range res.Added {
			p.hook(hookTrade, st.name, func() { p.e.hooks.runTrade(TradeRef{symRef{p.e, st}, &res.Added[i], 0}) })
		}
	}
}

// restTrades converts recent-trade rows to taped trades in the symbol's
// scales, keeping REST's newest-first order. A row that cannot be
// represented is skipped (the answer then counts as incomplete).
func (e *Engine) restTrades(rows []rest.Trade, id uint32) ([]parse.Trade, []int64, error) {
	ps, ss := e.syms.Scales(id)
	trs := make([]parse.Trade, 0, len(rows))
	seqs := make([]int64, 0, len(rows))
	var firstErr error
	for i := range rows {
		r := &rows[i]
		var t parse.Trade
		var err error
		if t.Price, err = parse.ParseUDecimal([]byte(r.Price), ps); err == nil {
			t.Size, err = parse.ParseUDecimal([]byte(r.Size), ss)
		}
		switch {
		case err != nil:
		case len(r.ExecID) == 0 || len(r.ExecID) > parse.TradeIDMax:
			err = fmt.Errorf("execId %q: want 1 to %d bytes", r.ExecID, parse.TradeIDMax)
		case r.Side == "Buy":
			t.Side = parse.Buy
		case r.Side == "Sell":
			t.Side = parse.Sell
		default:
			err = fmt.Errorf("side %q", r.Side)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("recent-trade row %d: %w", i, err)
			}
			continue
		}
		t.Time = int64(r.Time)
		t.BlockTrade, t.RPI = r.IsBlockTrade, r.IsRPITrade
		t.IDLen = uint8(copy(t.IDBuf[:], r.ExecID))
		trs = append(trs, t)
		seqs = append(seqs, int64(r.Seq))
	}
	if len(trs) == 0 && firstErr != nil {
		return nil, nil, firstErr
	}
	return trs, seqs, nil
}
