package rest

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// ServerTime is one reading of the exchange clock.
type ServerTime struct {
	Server time.Time     // result.timeNano (or timeSecond)
	RTT    time.Duration // round trip of the request
	// Offset estimates the exchange clock minus the local wall clock:
	// the server read its clock somewhere within the round trip, so the
	// midpoint is the best guess and errs by at most RTT/2.
	Offset time.Duration
}

// Time reads GET /v5/market/time with a single try, since it measures: a
// caller that wants retries (the session probe) spaces them with Delay.
func (c *Client) Time(ctx context.Context) (ServerTime, error) {
	var r struct {
		TimeSecond string `json:"timeSecond"`
		TimeNano   string `json:"timeNano"`
	}
	t0 := time.Now()
	_, _, err := c.once(ctx, "/v5/market/time", nil, &r)
	t1 := time.Now()
	if err != nil {
		c.failures.Add(1)
		inc(c.mFail)
		return ServerTime{}, err
	}
	var server time.Time
	if ns, err := strconv.ParseInt(r.TimeNano, 10, 64); err == nil && ns > 0 {
		server = time.Unix(0, ns)
	} else if s, err := strconv.ParseInt(r.TimeSecond, 10, 64); err == nil && s > 0 {
		server = time.Unix(s, 0)
	} else {
		c.failures.Add(1)
		inc(c.mFail)
		return ServerTime{}, fmt.Errorf("%w: GET /v5/market/time: no usable result.timeNano or timeSecond (%q, %q)", ErrUnavailable, r.TimeNano, r.TimeSecond)
	}
	rtt := t1.Sub(t0)
	return ServerTime{Server: server, RTT: rtt, Offset: server.Sub(t0.Add(rtt / 2))}, nil
}

// Instrument is the part of an instruments-info entry the engine uses
// (§2.3). Spot has no qtyStep (use BasePrecision) and no priceScale.
type Instrument struct {
	Symbol      string `json:"symbol"`
	Status      string `json:"status"`
	BaseCoin    string `json:"baseCoin"`
	QuoteCoin   string `json:"quoteCoin"`
	PriceScale  string `json:"priceScale"`
	PriceFilter struct {
		MinPrice string `json:"minPrice"`
		MaxPrice string `json:"maxPrice"`
		TickSize string `json:"tickSize"`
	} `json:"priceFilter"`
	LotSizeFilter struct {
		QtyStep        string `json:"qtyStep"`
		BasePrecision  string `json:"basePrecision"`
		QuotePrecision string `json:"quotePrecision"`
		MinOrderQty    string `json:"minOrderQty"`
		MaxOrderQty    string `json:"maxOrderQty"`
	} `json:"lotSizeFilter"`
}

// SizeStep is the instrument's size increment: qtyStep, or basePrecision
// on spot.
func (in *Instrument) SizeStep() string {
	if in.LotSizeFilter.QtyStep != "" {
		return in.LotSizeFilter.QtyStep
	}
	return in.LotSizeFilter.BasePrecision
}

// maxPages bounds cursor paging (Bybit lists fewer than 1000 symbols per
// derivative category, one or two pages at limit 1000).
const maxPages = 50

// Instruments reads GET /v5/market/instruments-info for a category, every
// page, or only symbol when it is not empty.
func (c *Client) Instruments(ctx context.Context, category, symbol string) ([]Instrument, error) {
	var out []Instrument
	cursor := ""
	for range maxPages {
		q := url.Values{"category": {category}, "limit": {"1000"}}
		if symbol != "" {
			q.Set("symbol", symbol)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var r struct {
			List           []Instrument `json:"list"`
			NextPageCursor string       `json:"nextPageCursor"`
		}
		if _, err := c.get(ctx, "/v5/market/instruments-info", q, &r); err != nil {
			return nil, err
		}
		out = append(out, r.List...)
		if cursor = r.NextPageCursor; cursor == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: GET /v5/market/instruments-info: more than %d pages", ErrUnavailable, maxPages)
}

// Kline is one row of GET /v5/market/kline; prices and sizes are decimal
// strings.
type Kline struct {
	Start                                    int64
	Open, High, Low, Close, Volume, Turnover string
}

// KlineQuery selects kline rows. Start and End (candle start times, ms)
// are optional; Limit is 1–1000 (0: Bybit's default, 200).
type KlineQuery struct {
	Category, Symbol, Interval string
	Start, End                 int64
	Limit                      int
}

// Klines reads GET /v5/market/kline. Rows come newest first; the newest is
// usually the candle still open (§2.4).
func (c *Client) Klines(ctx context.Context, kq KlineQuery) ([]Kline, error) {
	q := url.Values{"category": {kq.Category}, "symbol": {kq.Symbol}, "interval": {kq.Interval}}
	if kq.Start > 0 {
		q.Set("start", strconv.FormatInt(kq.Start, 10))
	}
	if kq.End > 0 {
		q.Set("end", strconv.FormatInt(kq.End, 10))
	}
	if kq.Limit > 0 {
		q.Set("limit", strconv.Itoa(kq.Limit))
	}
	var r struct {
		List [][]string `json:"list"`
	}
	if _, err := c.get(ctx, "/v5/market/kline", q, &r); err != nil {
		return nil, err
	}
	out := make([]Kline, len(r.List))
	for i, row := range r.List {
		if len(row) < 7 {
			return nil, fmt.Errorf("%w: GET /v5/market/kline: row %d has %d columns, want 7", ErrUnavailable, i, len(row))
		}
		start, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: GET /v5/market/kline: row %d start: %v", ErrUnavailable, i, err)
		}
		out[i] = Kline{start, row[1], row[2], row[3], row[4], row[5], row[6]}
	}
	return out, nil
}

// Trade is one row of GET /v5/market/recent-trade: ExecID is the
// WebSocket trade's i, Time its T (ms), Side its S, Price and Size its p
// and v. Seq is 0 when the answer does not carry it.
type Trade struct {
	ExecID       string `json:"execId"`
	Symbol       string `json:"symbol"`
	Price        string `json:"price"`
	Size         string `json:"size"`
	Side         string `json:"side"`
	Time         Int    `json:"time"`
	Seq          Int    `json:"seq"`
	IsBlockTrade bool   `json:"isBlockTrade"`
	IsRPITrade   bool   `json:"isRPITrade"`
}

// Recent-trade limits per call (§2.6).
const (
	MaxRecentTrades     = 1000
	MaxRecentTradesSpot = 60
)

// MaxTrades is the most trades one recent-trade call returns for a
// category.
func MaxTrades(category string) int {
	if category == "spot" {
		return MaxRecentTradesSpot
	}
	return MaxRecentTrades
}

// RecentTrades reads GET /v5/market/recent-trade, newest first. limit 0
// asks for the most the category allows (MaxTrades). Only the newest limit
// trades are reachable: older ones are gone for REST.
func (c *Client) RecentTrades(ctx context.Context, category, symbol string, limit int) ([]Trade, error) {
	if limit <= 0 {
		limit = MaxTrades(category)
	}
	q := url.Values{"category": {category}, "symbol": {symbol}, "limit": {strconv.Itoa(limit)}}
	var r struct {
		List []Trade `json:"list"`
	}
	if _, err := c.get(ctx, "/v5/market/recent-trade", q, &r); err != nil {
		return nil, err
	}
	return r.List, nil
}

// Orderbook is a GET /v5/market/orderbook answer: levels best first as
// [price, size] decimal strings; U matches the orderbook.1000 stream's u.
// net/bybitsim's restOrderbook and bench's peerBookData spell the same
// shape on purpose: the simulator and the baseline peer must not share
// this client's types.
type Orderbook struct {
	Symbol string      `json:"s"`
	Bids   [][2]string `json:"b"`
	Asks   [][2]string `json:"a"`
	TS     int64       `json:"ts"`
	U      int64       `json:"u"`
	Seq    int64       `json:"seq"`
	CTS    int64       `json:"cts"`
}

// Orderbook reads GET /v5/market/orderbook with limit levels a side (0:
// Bybit's default for the category).
func (c *Client) Orderbook(ctx context.Context, category, symbol string, limit int) (*Orderbook, error) {
	q := url.Values{"category": {category}, "symbol": {symbol}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var ob Orderbook
	if _, err := c.get(ctx, "/v5/market/orderbook", q, &ob); err != nil {
		return nil, err
	}
	return &ob, nil
}

// Int is an int64 decoded from sent as a JSON number or a decimal string
// (Bybit sends recent-trade time as a string); empty or null is 0.
type Int int64

func (f *Int) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("rest: integer %q: %w", b, err)
	}
	*f = Int(n)
	return nil
}
