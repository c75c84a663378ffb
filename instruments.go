package ringfeed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringfeed/ringfeed/net/rest"
	"github.com/ringfeed/ringfeed/parse"
)

// Default fixed-point scales, used until instruments-info gives each
// instrument its own (and for good when REST is unreachable): 8 decimals
// cover the tick and lot step of nearly every Bybit instrument.
const (
	defaultPriceScale = 8
	defaultSizeScale  = 8
)

// errREST marks a failure to reach or read the REST API, which never stops
// the engine: the WebSocket path does not depend on REST (some regions
// geo-block REST while the stream works).
var errREST = errors.New("ringfeed: REST unavailable")

// loadInstruments reads instruments-info for the category (all pages),
// rejects configured symbols Bybit does not list (a configuration error:
// Bybit would reject the subscription, possibly silencing the whole
// connection), and gives every symbol its instrument's own scales
// (instrumentScales). It runs before any connection.
func (e *Engine) loadInstruments(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*e.cfg.restTimeout())
	defer cancel()
	list, err := e.refill.rc.Instruments(ctx, string(e.cfg.Category), "")
	if err != nil {
		return fmt.Errorf("%w: %v", errREST, err)
	}
	known := make(map[string]rest.Instrument, len(list))
	for _, in := range list {
		known[in.Symbol] = in
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
		id, _ := e.syms.Lookup([]byte(s))
		if _, err := e.setScales(id, &in); err != nil {
			e.log.Warn("instrument scales unusable; keeping the defaults", "symbol", s, "err", err)
		}
	}
	if len(missing) > 0 {
		return cfgErr("Symbols", "not listed by %s for category %s: %s", e.cfg.RESTURL, e.cfg.Category, strings.Join(missing, ","))
	}
	return nil
}

// instrumentScales are the fixed-point scales of an instrument: as many
// decimals as its tick size (prices) and its size step (qtyStep, or
// basePrecision on spot) have. The instrument's own scales, not a floor of
// 8, keep large quantities of low-priced coins in range (spot PEPEUSDT's
// volume24h "4512345678901.23" is 4.5e21 at 8 decimals, 4.5e14 at its own
// 2). Values printed with more decimals than these (zeros excepted) are
// rejected, never rounded.
func instrumentScales(in *rest.Instrument) (price, size int, err error) {
	price, size = decimals(in.PriceFilter.TickSize), decimals(in.SizeStep())
	if in.PriceFilter.TickSize == "" || in.SizeStep() == "" {
		return 0, 0, fmt.Errorf("instruments-info lists no tickSize or size step")
	}
	if price > parse.MaxScale || size > parse.MaxScale {
		return 0, 0, fmt.Errorf("tick %q or step %q has more than %d decimals", in.PriceFilter.TickSize, in.SizeStep(), parse.MaxScale)
	}
	return price, size, nil
}

// setScales sets a symbol's scales from its instrument and reports whether
// they changed. Safe while readers parse (Symbols.SetScales is atomic).
func (e *Engine) setScales(id uint32, in *rest.Instrument) (bool, error) {
	ps, ss, err := instrumentScales(in)
	if err != nil {
		return false, err
	}
	ops, oss := e.syms.Scales(id)
	if ps == ops && ss == oss {
		return false, nil
	}
	if err := e.syms.SetScales(id, ps, ss); err != nil {
		return false, err
	}
	e.log.Debug("instrument scales", "symbol", in.Symbol, "price_decimals", ps, "size_decimals", ss)
	return true, nil
}

// decimals counts the digits after the point of a decimal string.
func decimals(s string) int {
	_, frac, ok := strings.Cut(s, ".")
	if !ok {
		return 0
	}
	return len(strings.TrimRight(frac, "0"))
}
