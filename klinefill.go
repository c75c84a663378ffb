package ringfeed

import (
	"context"
	"fmt"

	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/net/rest"
	"github.com/ringfeed/ringfeed/parse"
)

// klineFillLimit is Bybit's maximum rows per kline request.
const klineFillLimit = 1000

// klineJob fills or refreshes one kline window from GET /v5/market/kline:
// at start (unless NoKlineHistory), after a gap, and after lost messages, the open
// candle included (the newest row). kline.Window.Load keeps what the
// stream delivered meanwhile; a REST row wins for a start both hold.
func (p *processor) klineJob(st *symState, ks *klineState) refillJob {
	e := p.e
	limit := min(e.cfg.KlineWindow, klineFillLimit)
	if !ks.full {
		// A refresh after a loss needs only the last few candles.
		limit = min(limit, klineRefreshRows)
	}
	return refillJob{
		p: p, what: "kline", sym: st.name,
		fetch: func(ctx context.Context) (func(), error) {
			rows, err := e.refill.rc.Klines(ctx, rest.KlineQuery{
				Category: string(e.cfg.Category), Symbol: st.name, Interval: ks.code, Limit: limit,
			})
			if err != nil {
				return nil, err
			}
			candles, err := e.candles(rows, ks.code, st.id)
			if err != nil {
				return nil, err
			}
			return func() {
				ks.filling = false
				if err := ks.w.Load(candles); err != nil {
					ks.needFill = true
					if ok, n := e.logLimit.allow("klinefill"); ok {
						e.log.Warn("kline history rejected", "symbol", st.name, "interval", ks.code, "err", err, "suppressed", n)
					}
					return
				}
				ks.full = false
			}, nil
		},
		fail: func() {
			ks.filling = false
			ks.needFill = true
		},
	}
}

// klineRefreshRows is how many candles a refresh after lost messages asks
// for: the open candle and the ones that may have closed during the loss.
const klineRefreshRows = 10

// candles converts REST rows (newest first) to candles in the symbol's
// scales, as kline.Window.Load wants them.
func (e *Engine) candles(rows []rest.Kline, interval string, id uint32) ([]kline.Candle, error) {
	ps, ss := e.syms.Scales(id)
	iv, err := kline.ParseInterval(interval)
	if err != nil {
		return nil, err
	}
	out := make([]kline.Candle, 0, len(rows))
	for i, row := range rows {
		var v [6]int64
		cols := [6]string{row.Open, row.High, row.Low, row.Close, row.Volume, row.Turnover}
		scales := [6]int{ps, ps, ps, ps, ss, parse.ValueScale}
		for j := range v {
			if v[j], err = parse.ParseDecimal([]byte(cols[j]), scales[j]); err != nil {
				return nil, fmt.Errorf("kline row %d column %d: %w", i, j+1, err)
			}
		}
		// Every row but the newest is a closed candle.
		out = append(out, kline.Candle{
			Start: row.Start, End: iv.End(row.Start),
			Open: v[0], High: v[1], Low: v[2], Close: v[3], Volume: v[4], Turnover: v[5],
			Confirm: i > 0,
		})
	}
	return out, nil
}
