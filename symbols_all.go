package ringfeed

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
)

// SymbolFilter selects instruments for `--symbols all`.
type SymbolFilter struct {
	// Quote keeps instruments whose quote coin is one of these (USDT,
	// USDC …); empty keeps every quote coin.
	Quote []string
	// Status keeps instruments in this status; empty means "Trading".
	Status string
}

type listedInstrument struct {
	Symbol    string `json:"symbol"`
	Status    string `json:"status"`
	QuoteCoin string `json:"quoteCoin"`
}

// ListSymbols reads every page of /v5/market/instruments-info for category
// from rest ("", "testnet" or a URL, as Config.RESTURL takes it) and returns
// the symbols f selects, sorted. It is how `--symbols all` builds its list
// at start and on every refresh.
func ListSymbols(ctx context.Context, rest string, category Category, f SymbolFilter) ([]string, error) {
	base, err := restURL(rest)
	if err != nil {
		return nil, cfgErr("rest-url", "%v", err)
	}
	status := f.Status
	if status == "" {
		status = "Trading"
	}
	var out []string
	cursor := ""
	for page := 0; page < 50; page++ {
		q := url.Values{}
		q.Set("category", string(category))
		q.Set("limit", "1000")
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v5/market/instruments-info?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errREST, err)
		}
		var ir struct {
			RetCode int    `json:"retCode"`
			RetMsg  string `json:"retMsg"`
			Result  struct {
				List           []listedInstrument `json:"list"`
				NextPageCursor string             `json:"nextPageCursor"`
			} `json:"result"`
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("%w: instruments-info: HTTP %d", errREST, resp.StatusCode)
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(&ir)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: instruments-info: %v", errREST, err)
		}
		if ir.RetCode != 0 {
			return nil, fmt.Errorf("%w: instruments-info: retCode %d: %s", errREST, ir.RetCode, ir.RetMsg)
		}
		for _, in := range ir.Result.List {
			if in.Status != status || !validSymbol(in.Symbol) {
				continue
			}
			if len(f.Quote) > 0 && !slices.Contains(f.Quote, in.QuoteCoin) {
				continue
			}
			out = append(out, in.Symbol)
		}
		if cursor = ir.Result.NextPageCursor; cursor == "" {
			break
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
