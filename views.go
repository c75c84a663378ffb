package ringfeed

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/parse"
)

// The state views: copies of a symbol's state that Engine.Book, Klines,
// Ticker and Trades return, read on the owning processor between batches.
// Prices, sizes and values are Decimals at the symbol's scales, times Unix
// milliseconds. A view is the caller's to keep.
//
// The json tags are the admin API's names (one scheme: lower-case words,
// snake_case where two are needed, and Bybit's short u, seq and ts for the
// update id, cross sequence and message time); Decimals encode as JSON
// strings.

// Level is one price level of a book.
type Level struct {
	Price Decimal
	Size  Decimal
}

// MarshalJSON writes the level as ["price","size"], the admin API's form.
func (l Level) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 48)
	b = append(b, '[', '"')
	b = l.Price.AppendTo(b)
	b = append(b, '"', ',', '"')
	b = l.Size.AppendTo(b)
	return append(b, '"', ']'), nil
}

// UnmarshalJSON reads ["price","size"].
func (l *Level) UnmarshalJSON(b []byte) error {
	var ps [2]Decimal
	if err := json.Unmarshal(b, &ps); err != nil {
		return err
	}
	l.Price, l.Size = ps[0], ps[1]
	return nil
}

// BookView is a copy of one book (one subscribed depth of a symbol).
type BookView struct {
	Category Category `json:"category"`
	Symbol   string   `json:"symbol"`
	Depth    int      `json:"depth"`
	U        int64    `json:"u"`   // Bybit's update id
	Seq      int64    `json:"seq"` // Bybit's cross sequence
	TS       int64    `json:"ts"`  // message time, ms
	CTS      int64    `json:"cts,omitempty"`
	Stale    bool     `json:"stale"`
	Reason   string   `json:"reason,omitempty"` // why it is stale (book.Reason)
	Bids     []Level  `json:"bids"`             // best first
	Asks     []Level  `json:"asks"`             // best first
}

// CandleView is one kline.
type CandleView struct {
	Start     int64   `json:"start"`
	End       int64   `json:"end"`
	Open      Decimal `json:"open"`
	High      Decimal `json:"high"`
	Low       Decimal `json:"low"`
	Close     Decimal `json:"close"`
	Volume    Decimal `json:"volume"`
	Turnover  Decimal `json:"turnover"`
	Timestamp int64   `json:"timestamp,omitempty"` // last trade included; 0 for REST history
	Confirm   bool    `json:"confirm"`
}

// KlinesView is a copy of one kline window, oldest candle first.
type KlinesView struct {
	Category Category `json:"category"`
	Symbol   string   `json:"symbol"`
	Interval string   `json:"interval"`
	Gaps     int64    `json:"gaps"`
	// Stale: the topic went silent; no kline message since.
	Stale  bool         `json:"stale"`
	Klines []CandleView `json:"klines"`
}

// TickerValue is one ticker field: a Decimal, empty when Bybit sent ""
// (a value it does not have), or a name (tickDirection).
type TickerValue struct {
	Value Decimal
	Empty bool
	Name  string
}

// String returns the value as the admin API prints it.
func (v TickerValue) String() string {
	switch {
	case v.Empty:
		return ""
	case v.Name != "":
		return v.Name
	}
	return v.Value.String()
}

// MarshalText returns String.
func (v TickerValue) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads String's form back: "" is empty, a decimal a Value,
// anything else a Name.
func (v *TickerValue) UnmarshalText(b []byte) error {
	*v = TickerValue{}
	switch {
	case len(b) == 0:
		v.Empty = true
	case v.Value.UnmarshalText(b) != nil:
		v.Name = string(b)
	}
	return nil
}

// TickerView is a copy of a symbol's merged ticker: every field the
// ticker carries, by Bybit's key ("lastPrice", "fundingRate", ...).
type TickerView struct {
	Category Category               `json:"category"`
	Symbol   string                 `json:"symbol"`
	TS       int64                  `json:"ts"`
	Seq      int64                  `json:"seq,omitempty"` // Bybit's cs; absent on option
	Stale    bool                   `json:"stale"`
	Fields   map[string]TickerValue `json:"fields"`
}

// TradeView is one trade.
type TradeView struct {
	Time       int64   `json:"time"` // fill time, ms
	Side       string  `json:"side"` // Buy or Sell
	Price      Decimal `json:"price"`
	Size       Decimal `json:"size"`
	ID         string  `json:"id"`
	BlockTrade bool    `json:"block_trade"`
	RPI        bool    `json:"rpi,omitempty"`
	Seq        int64   `json:"seq,omitempty"`
}

// TradesView is a copy of the newest trades of a symbol's tape, newest
// first.
type TradesView struct {
	Category   Category `json:"category"`
	Symbol     string   `json:"symbol"`
	Duplicates uint64   `json:"duplicates"`
	// Stale: the topic went silent; no trade since.
	Stale  bool        `json:"stale"`
	Trades []TradeView `json:"trades"`
}

// SymbolView describes one served symbol.
type SymbolView struct {
	Category   Category `json:"category"`
	Symbol     string   `json:"symbol"`
	PriceScale int      `json:"price_scale"`
	SizeScale  int      `json:"size_scale"`
	Books      []int    `json:"books,omitempty"`  // subscribed depths
	Klines     []string `json:"klines,omitempty"` // subscribed intervals
	Ticker     bool     `json:"ticker"`           // tickers subscribed
	Trades     bool     `json:"trades"`           // publicTrade subscribed
	Connection int      `json:"connection"`       // index of its connection
	Processor  int      `json:"processor"`        // index of its processor
	TradeTopic string   `json:"trade_topic,omitempty"`
}

// Errors of the state accessors.
var (
	ErrUnknownSymbol = errors.New("ringfeed: unknown symbol")
	ErrNoStream      = errors.New("ringfeed: topic not subscribed for this symbol")
)

// symbol finds a configured symbol's state.
func (e *Engine) symbol(name string) (*symState, uint32, error) {
	id, ok := e.syms.Lookup([]byte(name))
	if !ok || int(id) >= len(e.bySym) || e.bySym[id] == nil {
		return nil, 0, ErrUnknownSymbol
	}
	return e.bySym[id], id, nil
}

// Symbols returns every served symbol, category by category in
// configuration order. Safe from any goroutine (the list is fixed at New;
// scales are final once Run has loaded the instruments).
func (e *Engine) Symbols() []SymbolView {
	var out []SymbolView
	for _, eng := range e.engines() {
		out = append(out, eng.symbolViews()...)
	}
	return out
}

func (e *Engine) symbolViews() []SymbolView {
	var out []SymbolView
	for _, st := range e.bySym {
		if st == nil {
			continue
		}
		ps, ss := e.syms.Scales(st.id)
		v := SymbolView{Category: e.cfg.Category, Symbol: st.name, PriceScale: ps, SizeScale: ss,
			Ticker: st.ticker != nil, Trades: st.tape != nil, Connection: st.conn.idx, Processor: st.conn.proc.id}
		for _, b := range st.books {
			v.Books = append(v.Books, int(b.depth))
		}
		for _, k := range st.klines {
			v.Klines = append(v.Klines, k.code)
		}
		if st.tape != nil {
			v.TradeTopic = st.trade
		}
		out = append(out, v)
	}
	return out
}

// SymbolTable returns the engine's symbol table (read-only): names to ids
// and scales, as the parser sees them. An engine serving several
// categories has one per category: ask Category(c).SymbolTable.
func (e *Engine) SymbolTable() *parse.Symbols { return e.syms }

// Book returns a consistent copy of a symbol's book (the deepest
// subscribed stream unless stream names a depth), read on its processor.
// levels caps the levels per side (0: all).
//
// An engine serving several categories answers for a symbol served in one
// of them, and ErrAmbiguousSymbol otherwise: ask Category(c).Book.
func (e *Engine) Book(ctx context.Context, symbol string, stream, levels int) (BookView, error) {
	eng, err := e.forSymbol(symbol)
	if err != nil {
		return BookView{}, err
	}
	return eng.book(ctx, symbol, stream, levels)
}

func (e *Engine) book(ctx context.Context, symbol string, stream, levels int) (BookView, error) {
	st, id, err := e.symbol(symbol)
	if err != nil {
		return BookView{}, err
	}
	var bs *bookState
	for _, b := range st.books {
		if stream == 0 && (bs == nil || b.depth > bs.depth) || int(b.depth) == stream {
			bs = b
		}
	}
	if bs == nil {
		return BookView{}, ErrNoStream
	}
	var bids, asks []book.Level
	var h book.Header
	var stale bool
	var reason book.Reason
	n := levels
	err = e.query(ctx, st.conn.proc, func() {
		b := bs.b
		nb, na := b.Len(book.Bid), b.Len(book.Ask)
		if n > 0 {
			nb, na = min(nb, n), min(na, n)
		}
		bids = make([]book.Level, nb)
		asks = make([]book.Level, na)
		bids = bids[:b.CopyTop(book.Bid, bids)]
		asks = asks[:b.CopyTop(book.Ask, asks)]
		h, stale, reason = b.Header(), b.Stale(), b.Reason()
	})
	if err != nil {
		return BookView{}, err
	}
	ps, ss := e.syms.Scales(id)
	v := BookView{Category: e.cfg.Category, Symbol: symbol, Depth: int(bs.depth), U: h.U, Seq: h.Seq, TS: h.TS, CTS: h.CTS,
		Stale: stale, Bids: levelsOf(bids, ps, ss), Asks: levelsOf(asks, ps, ss)}
	if stale {
		v.Reason = reason.String()
	}
	return v, nil
}

func levelsOf(ls []book.Level, ps, ss int) []Level {
	out := make([]Level, len(ls))
	for i, l := range ls {
		out[i] = Level{NewDecimal(l.Price, ps), NewDecimal(l.Size, ss)}
	}
	return out
}

// Klines returns up to limit newest candles of a symbol's window (0: all),
// oldest first.
func (e *Engine) Klines(ctx context.Context, symbol, interval string, limit int) (KlinesView, error) {
	eng, err := e.forSymbol(symbol)
	if err != nil {
		return KlinesView{}, err
	}
	return eng.klines(ctx, symbol, interval, limit)
}

func (e *Engine) klines(ctx context.Context, symbol, interval string, limit int) (KlinesView, error) {
	st, id, err := e.symbol(symbol)
	if err != nil {
		return KlinesView{}, err
	}
	piv, err := parse.ParseInterval([]byte(interval))
	if err != nil {
		return KlinesView{}, ErrNoStream
	}
	ks := st.kline(piv)
	if ks == nil {
		return KlinesView{}, ErrNoStream
	}
	var cs []kline.Candle
	var gaps int64
	var stale bool
	err = e.query(ctx, st.conn.proc, func() {
		n := ks.w.Len()
		if limit > 0 {
			n = min(n, limit)
		}
		cs = ks.w.Last(make([]kline.Candle, 0, n), n)
		gaps = ks.w.Gaps()
		stale = ks.silent.get()
	})
	if err != nil {
		return KlinesView{}, err
	}
	ps, ss := e.syms.Scales(id)
	v := KlinesView{Category: e.cfg.Category, Symbol: symbol, Interval: interval, Gaps: gaps, Stale: stale, Klines: make([]CandleView, len(cs))}
	for i, c := range cs {
		v.Klines[i] = candleOf(c, ps, ss)
	}
	return v, nil
}

func candleOf(c kline.Candle, ps, ss int) CandleView {
	return CandleView{
		Start: c.Start, End: c.End,
		Open: NewDecimal(c.Open, ps), High: NewDecimal(c.High, ps), Low: NewDecimal(c.Low, ps), Close: NewDecimal(c.Close, ps),
		Volume: NewDecimal(c.Volume, ss), Turnover: NewDecimal(c.Turnover, parse.ValueScale),
		Timestamp: c.Timestamp, Confirm: c.Confirm,
	}
}

// Ticker returns a copy of a symbol's merged ticker.
func (e *Engine) Ticker(ctx context.Context, symbol string) (TickerView, error) {
	eng, err := e.forSymbol(symbol)
	if err != nil {
		return TickerView{}, err
	}
	return eng.ticker(ctx, symbol)
}

func (e *Engine) ticker(ctx context.Context, symbol string) (TickerView, error) {
	st, id, err := e.symbol(symbol)
	if err != nil {
		return TickerView{}, err
	}
	if st.ticker == nil {
		return TickerView{}, ErrNoStream
	}
	var t parse.Ticker
	var ts, cs int64
	var stale bool
	err = e.query(ctx, st.conn.proc, func() {
		t, ts, cs = st.ticker.t, st.ticker.ts, st.ticker.cs
		stale = st.ticker.stale || st.ticker.silent.get()
	})
	if err != nil {
		return TickerView{}, err
	}
	ps, ss := e.syms.Scales(id)
	v := TickerView{Category: e.cfg.Category, Symbol: symbol, TS: ts, Seq: cs, Stale: stale, Fields: map[string]TickerValue{}}
	for f := parse.TickerField(0); f < parse.NumTickerFields; f++ {
		if t.Has(f) {
			v.Fields[f.String()] = tickerValue(&t, f, ps, ss)
		}
	}
	return v, nil
}

// tickerValue types one ticker field: decimals at the field's scale (for
// the symbol's price and size scales), times as integer ms, the tick
// direction by name.
func tickerValue(t *parse.Ticker, f parse.TickerField, priceScale, sizeScale int) TickerValue {
	switch {
	case t.IsEmpty(f):
		return TickerValue{Empty: true}
	case f == parse.TickTickDirection:
		return TickerValue{Name: parse.TickDirection(t.Values[f]).String()}
	}
	return TickerValue{Value: NewDecimal(t.Values[f], f.ScaleFor(priceScale, sizeScale))}
}

// Trades returns up to limit newest trades of a symbol's tape (0: all),
// newest first.
func (e *Engine) Trades(ctx context.Context, symbol string, limit int) (TradesView, error) {
	eng, err := e.forSymbol(symbol)
	if err != nil {
		return TradesView{}, err
	}
	return eng.trades(ctx, symbol, limit)
}

func (e *Engine) trades(ctx context.Context, symbol string, limit int) (TradesView, error) {
	st, id, err := e.symbol(symbol)
	if err != nil {
		return TradesView{}, err
	}
	if st.tape == nil {
		return TradesView{}, ErrNoStream
	}
	var trades []parse.Trade
	var seqs []int64
	var dups uint64
	var stale bool
	err = e.query(ctx, st.conn.proc, func() {
		n := st.tape.Len()
		if limit > 0 {
			n = min(n, limit)
		}
		trades = make([]parse.Trade, n)
		seqs = make([]int64, n)
		for i := range n {
			t, s := st.tape.At(i)
			trades[i], seqs[i] = *t, s
		}
		dups = st.tape.Dups()
		stale = st.tradeSilent.get()
	})
	if err != nil {
		return TradesView{}, err
	}
	ps, ss := e.syms.Scales(id)
	v := TradesView{Category: e.cfg.Category, Symbol: symbol, Duplicates: dups, Stale: stale, Trades: make([]TradeView, len(trades))}
	for i := range trades {
		t := &trades[i]
		v.Trades[i] = TradeView{Time: t.Time, Side: t.Side.String(), Price: NewDecimal(t.Price, ps), Size: NewDecimal(t.Size, ss),
			ID: string(t.ID()), BlockTrade: t.BlockTrade, RPI: t.RPI, Seq: seqs[i]}
	}
	return v, nil
}
