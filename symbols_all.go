package ringfeed

import (
	"context"
	"fmt"
	"slices"

	"github.com/ringfeed/ringfeed/net/rest"
)

// SymbolFilter selects instruments for `--symbols all`.
type SymbolFilter struct {
	// Quote keeps instruments whose quote coin is one of these (USDT,
	// USDC …); empty keeps every quote coin.
	Quote []string
	// Status keeps instruments in this status; empty means "Trading".
	Status string
}

// ListSymbols reads every page of /v5/market/instruments-info for category
// from restBase ("", "testnet" or a URL, as Config.RESTURL takes it) and returns
// the symbols f selects, sorted. It is how `--symbols all` builds its list
// at start and on every refresh. The call goes through net/rest, so it has
// the same timeouts, retries and process-wide request budget as the
// engine's own REST calls; caFile adds certificate authorities as
// Config.CAFile does.
func ListSymbols(ctx context.Context, restBase, caFile string, category Category, f SymbolFilter) ([]string, error) {
	base, err := restURL(restBase)
	if err != nil {
		return nil, cfgErr("RESTURL", "%v", err)
	}
	roots, err := loadCAFile(caFile)
	if err != nil {
		return nil, err
	}
	c, err := rest.New(rest.Config{URL: base, RootCAs: roots})
	if err != nil {
		return nil, cfgErr("RESTURL", "%v", err)
	}
	list, err := c.Instruments(ctx, string(category), "")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errREST, err)
	}
	status := f.Status
	if status == "" {
		status = "Trading"
	}
	var out []string
	for _, in := range list {
		if in.Status != status || !validSymbol(in.Symbol) {
			continue
		}
		if len(f.Quote) > 0 && !slices.Contains(f.Quote, in.QuoteCoin) {
			continue
		}
		out = append(out, in.Symbol)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
