package ringfeed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ringfeed/ringfeed/parse"
)

// Default fixed-point scales: 8 decimals cover the tick and lot step of
// nearly every Bybit instrument and keep notional values up to 9.2e10 in
// an int64. Instruments whose tick or step has more decimals get a larger
// scale from instruments-info at start.
const (
	defaultPriceScale = 8
	defaultSizeScale  = 8
)

// instrument is what the engine takes from /v5/market/instruments-info.
type instrument struct {
	Symbol      string `json:"symbol"`
	Status      string `json:"status"`
	PriceFilter struct {
		TickSize string `json:"tickSize"`
	} `json:"priceFilter"`
	LotSizeFilter struct {
		QtyStep       string `json:"qtyStep"`
		BasePrecision string `json:"basePrecision"`
	} `json:"lotSizeFilter"`
}

type instrumentsResp struct {
	RetCode int    `json:"retCode"`
	RetMsg  string `json:"retMsg"`
	Result  struct {
		List           []instrument `json:"list"`
		NextPageCursor string       `json:"nextPageCursor"`
	} `json:"result"`
}

// errREST marks a failure to reach or read the REST API, which never stops
// the engine: the WebSocket path does not depend on REST (some regions
// geo-block REST while the stream works).
var errREST = errors.New("ringfeed: REST unavailable")

// loadInstruments reads instruments-info for the category (all pages),
// rejects configured symbols Bybit does not list (a configuration error:
// Bybit would reject the subscription, possibly silencing the whole
// connection), and widens the scales of symbols whose tick size or lot
// step needs more than the default decimals. It runs before any
// connection, so the symbol table is still setup-only.
func (e *Engine) loadInstruments(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.restTimeout())
	defer cancel()
	client := &http.Client{}
	known := map[string]instrument{}
	cursor := ""
	for page := 0; page < 50; page++ {
		q := url.Values{}
		q.Set("category", string(e.cfg.Category))
		q.Set("limit", "1000")
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.cfg.RESTURL+"/v5/market/instruments-info?"+q.Encode(), nil)
		if err != nil {
			return fmt.Errorf("%w: %v", errREST, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%w: %v", errREST, err)
		}
		var ir instrumentsResp
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("%w: instruments-info: HTTP %d", errREST, resp.StatusCode)
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(&ir)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%w: instruments-info: %v", errREST, err)
		}
		if ir.RetCode != 0 {
			return fmt.Errorf("%w: instruments-info: retCode %d: %s", errREST, ir.RetCode, ir.RetMsg)
		}
		for _, in := range ir.Result.List {
			known[in.Symbol] = in
		}
		if cursor = ir.Result.NextPageCursor; cursor == "" {
			break
		}
	}
	var missing []string
	for _, s := range e.cfg.Symbols {
		in, ok := known[s]
		if !ok {
			missing = append(missing, s)
			continue
		}
		if in.Status != "" && in.Status != "Trading" {
			e.log.Warn("instrument is not trading", "symbol", s, "status", in.Status)
		}
		step := in.LotSizeFilter.QtyStep
		if step == "" {
			step = in.LotSizeFilter.BasePrecision // spot has no qtyStep
		}
		ps := max(defaultPriceScale, decimals(in.PriceFilter.TickSize))
		ss := max(defaultSizeScale, decimals(step))
		if ps > defaultPriceScale || ss > defaultSizeScale {
			id, _ := e.syms.Lookup([]byte(s))
			if err := e.syms.SetScales(id, min(ps, parse.MaxScale), min(ss, parse.MaxScale)); err != nil {
				return cfgErr("Symbols", "%s: %v", s, err)
			}
			e.log.Info("wider fixed-point scale for instrument", "symbol", s, "price_decimals", ps, "size_decimals", ss)
		}
	}
	if len(missing) > 0 {
		return cfgErr("Symbols", "not listed by %s for category %s: %s", e.cfg.RESTURL, e.cfg.Category, strings.Join(missing, ","))
	}
	return nil
}

// decimals counts the digits after the point of a decimal string.
func decimals(s string) int {
	_, frac, ok := strings.Cut(s, ".")
	if !ok {
		return 0
	}
	return len(strings.TrimRight(frac, "0"))
}
