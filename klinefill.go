package ringfeed

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/parse"
)

// klineLoader fills kline windows from REST /v5/market/kline at start and
// after a gap or reconnect, so a strategy sees a full window at once. It
// runs on its own goroutine: a REST call never touches a reader or a
// processor; the rows are handed to the owning processor as a query.
type klineLoader struct {
	e      *Engine
	client *http.Client
	reqs   chan fillReq
}

type fillReq struct {
	p  *processor
	st *symState
	ks *klineState
}

// klineFillLimit is Bybit's maximum rows per kline request.
const klineFillLimit = 1000

func newKlineLoader(e *Engine) *klineLoader {
	return &klineLoader{
		e:      e,
		client: &http.Client{Timeout: e.cfg.restTimeout()},
		reqs:   make(chan fillReq, 1024),
	}
}

// request is called by a processor (housekeeping): never blocks.
func (l *klineLoader) request(p *processor, st *symState, ks *klineState) {
	select {
	case l.reqs <- fillReq{p, st, ks}:
	default:
		ks.filling = false
		ks.needFill = true // try again at the next housekeeping
	}
}

func (l *klineLoader) run(ctx context.Context) {
	// At most one request in flight and a small pause between requests:
	// Bybit allows 600 REST requests per 5 s per IP, shared with
	// everything else on the host.
	pace := time.NewTicker(50 * time.Millisecond)
	defer pace.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-l.reqs:
			rows, err := l.fetch(ctx, r.st.name, r.ks.code, min(l.e.cfg.KlineWindow, klineFillLimit), r.st.id)
			qctx, cancel := context.WithTimeout(ctx, adminQueryTimeout)
			qerr := l.e.query(qctx, r.p, func() {
				r.ks.filling = false
				if err != nil {
					r.ks.needFill = true
					return
				}
				if lerr := r.ks.w.Load(rows); lerr != nil {
					err = lerr
				}
			})
			cancel()
			if err != nil || qerr != nil {
				if ok, n := l.e.logLimit.allow("klinefill"); ok {
					l.e.log.Warn("kline history fill failed; retrying later", "symbol", r.st.name, "interval", r.ks.code, "err", err, "query", qerr, "suppressed", n)
				}
				// Back off before the processor asks again.
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-pace.C:
			}
		}
	}
}

type klineResp struct {
	RetCode int    `json:"retCode"`
	RetMsg  string `json:"retMsg"`
	Result  struct {
		List [][]string `json:"list"`
	} `json:"result"`
}

// fetch returns history rows newest first, as kline.Window.Load wants.
func (l *klineLoader) fetch(ctx context.Context, symbol, interval string, limit int, id uint32) ([]kline.Candle, error) {
	q := url.Values{}
	q.Set("category", string(l.e.cfg.Category))
	q.Set("symbol", symbol)
	q.Set("interval", interval)
	q.Set("limit", strconv.Itoa(limit))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.e.cfg.RESTURL+"/v5/market/kline?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /v5/market/kline: HTTP %d", resp.StatusCode)
	}
	var kr klineResp
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&kr); err != nil {
		return nil, fmt.Errorf("GET /v5/market/kline: %w", err)
	}
	if kr.RetCode != 0 {
		return nil, fmt.Errorf("GET /v5/market/kline: retCode %d: %s", kr.RetCode, kr.RetMsg)
	}
	ps, ss := l.e.syms.Scales(id)
	iv, err := kline.ParseInterval(interval)
	if err != nil {
		return nil, err
	}
	out := make([]kline.Candle, 0, len(kr.Result.List))
	for i, row := range kr.Result.List {
		if len(row) < 7 {
			return nil, fmt.Errorf("kline row %d: %d columns, want 7", i, len(row))
		}
		start, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("kline row %d: start: %w", i, err)
		}
		var v [6]int64
		scales := [6]int{ps, ps, ps, ps, ss, parse.ValueScale}
		for j := range v {
			if v[j], err = parse.ParseDecimal([]byte(row[j+1]), scales[j]); err != nil {
				return nil, fmt.Errorf("kline row %d column %d: %w", i, j+1, err)
			}
		}
		// Every row but the newest is a closed candle.
		out = append(out, kline.Candle{
			Start: start, End: iv.End(start),
			Open: v[0], High: v[1], Low: v[2], Close: v[3], Volume: v[4], Turnover: v[5],
			Confirm: i > 0,
		})
	}
	return out, nil
}
