package ringfeed

import (
	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/parse"
)

// Hooks are user callbacks run inline on the processor goroutine that owns
// the symbol, after the state they describe was updated. (In park mode the
// readers apply messages for a sleeping processor unless hooks are
// registered: a hook never runs on a reader, so a slow one cannot hold up
// a socket.) Register them
// with Engine.OnBook, OnKline, OnTicker and OnTrade before Run; several
// hooks of a kind run in registration order, and each kind's calls
// together are timed against Config.HookBudget.
//
// A hook receives a read-only reference (BookRef, KlineRef, TickerRef,
// TradeRef): a small value whose methods read the live state without
// allocating, with prices and sizes as Decimals at the symbol's scales.
// It is valid only during the call: the processor changes the state as
// soon as the hook returns, so a hook must not keep it or hand it to
// another goroutine. Copy what you need (a Decimal, a Level, a
// CandleView is a value).
type hookSet struct {
	book   []func(BookRef)
	kline  []func(KlineRef)
	ticker []func(TickerRef)
	trade  []func(TradeRef)
}

// OnBook registers fn to run after every applied book message. Hooks run
// in registration order; register before Run (it panics after).
func (e *Engine) OnBook(fn func(BookRef)) {
	addHook(e, "OnBook", (*Engine).OnBook, &e.hooks.book, fn)
}

// OnKline registers fn to run after every kline message.
func (e *Engine) OnKline(fn func(KlineRef)) {
	addHook(e, "OnKline", (*Engine).OnKline, &e.hooks.kline, fn)
}

// OnTicker registers fn to run after every ticker message.
func (e *Engine) OnTicker(fn func(TickerRef)) {
	addHook(e, "OnTicker", (*Engine).OnTicker, &e.hooks.ticker, fn)
}

// OnTrade registers fn to run for every new (not repeated) trade.
func (e *Engine) OnTrade(fn func(TradeRef)) {
	addHook(e, "OnTrade", (*Engine).OnTrade, &e.hooks.trade, fn)
}

// addHook is the one body of the On* methods: it registers fn with every
// category engine of e (through on, the same On* method) and appends it
// to e's own list.
func addHook[R any](e *Engine, what string, on func(*Engine, func(R)), list *[]func(R), fn func(R)) {
	e.mustNotRun(what)
	for _, c := range e.cats {
		on(c, fn)
	}
	*list = append(*list, fn)
}

// mustNotRun panics once Run has started: the processors read the hook
// lists without a lock.
func (e *Engine) mustNotRun(what string) {
	if e.runStarted.Load() {
		panic("ringfeed: " + what + " called after Run")
	}
}

// any reports whether a hook of any kind is registered.
func (h *hookSet) any() bool {
	return len(h.book)+len(h.kline)+len(h.ticker)+len(h.trade) > 0
}

func (h *hookSet) runBook(r BookRef)     { runHooks(h.book, r) }
func (h *hookSet) runKline(r KlineRef)   { runHooks(h.kline, r) }
func (h *hookSet) runTicker(r TickerRef) { runHooks(h.ticker, r) }
func (h *hookSet) runTrade(r TradeRef)   { runHooks(h.trade, r) }

// runHooks calls every hook of a kind in registration order.
func runHooks[R any](fns []func(R), r R) {
	for _, fn := range fns {
		fn(r)
	}
}

// symRef is what every reference knows about its symbol.
type symRef struct {
	e  *Engine
	st *symState
}

// Symbol returns the symbol's name.
func (r symRef) Symbol() string { return r.st.name }

// Category returns the symbol's category.
func (r symRef) Category() Category { return r.e.cfg.Category }

// scales returns the symbol's price and size scales.
func (r symRef) scales() (int, int) { return r.e.syms.Scales(r.st.id) }

// BookRef is a read-only reference to one live book, handed to OnBook
// hooks; valid only during the call.
type BookRef struct {
	symRef
	bs *bookState
}

// Depth returns the subscribed depth of this book stream.
func (r BookRef) Depth() int { return int(r.bs.depth) }

// Header returns the update id, cross sequence and times of the last
// message applied.
func (r BookRef) Header() book.Header { return r.bs.b.Header() }

// Stale reports whether the book is stale. OnBook hooks run only after an
// update that left the book live, so it is false during their call.
func (r BookRef) Stale() bool { return r.bs.b.Stale() }

// Len returns the number of levels on side s.
func (r BookRef) Len(s book.Side) int { return r.bs.b.Len(s) }

// Best returns the best level of side s.
func (r BookRef) Best(s book.Side) (Level, bool) {
	l, ok := r.bs.b.Best(s)
	return r.level(l), ok
}

// BestBid returns the highest bid.
func (r BookRef) BestBid() (Level, bool) { return r.Best(book.Bid) }

// BestAsk returns the lowest ask.
func (r BookRef) BestAsk() (Level, bool) { return r.Best(book.Ask) }

// Levels copies up to len(dst) levels of side s into dst, best first, and
// returns how many. It does not allocate.
func (r BookRef) Levels(s book.Side, dst []Level) int {
	n := 0
	ps, ss := r.scales()
	r.bs.b.Ascend(s, func(l book.Level) bool {
		if n == len(dst) {
			return false
		}
		dst[n] = Level{NewDecimal(l.Price, ps), NewDecimal(l.Size, ss)}
		n++
		return true
	})
	return n
}

func (r BookRef) level(l book.Level) Level {
	ps, ss := r.scales()
	return Level{NewDecimal(l.Price, ps), NewDecimal(l.Size, ss)}
}

// KlineRef is a read-only reference to one live kline window, handed to
// OnKline hooks; valid only during the call.
type KlineRef struct {
	symRef
	ks *klineState
}

// Interval returns Bybit's interval code ("1", "60", "D", ...).
func (r KlineRef) Interval() string { return r.ks.code }

// Len returns the number of candles held.
func (r KlineRef) Len() int { return r.ks.w.Len() }

// Gaps returns how many candles the window knows to be missing.
func (r KlineRef) Gaps() int64 { return r.ks.w.Gaps() }

// Newest returns the newest candle (the one just updated, usually).
func (r KlineRef) Newest() (CandleView, bool) {
	c, ok := r.ks.w.Newest()
	return r.candle(c), ok
}

// At returns the i-th candle counting from the newest (At(0) is the
// newest), as kline.Window.At does.
func (r KlineRef) At(i int) (CandleView, bool) {
	c, ok := r.ks.w.At(i)
	return r.candle(c), ok
}

func (r KlineRef) candle(c kline.Candle) CandleView {
	ps, ss := r.scales()
	return candleOf(c, ps, ss)
}

// TickerRef is a read-only reference to a symbol's merged ticker, handed
// to OnTicker hooks; valid only during the call.
type TickerRef struct {
	symRef
	ts *tickerState
}

// TS returns the time of the last ticker message, ms.
func (r TickerRef) TS() int64 { return r.ts.ts }

// Seq returns the cross sequence of the last ticker message (0 on option).
func (r TickerRef) Seq() int64 { return r.ts.cs }

// Stale reports whether the ticker lost a delta and awaits a snapshot.
func (r TickerRef) Stale() bool { return r.ts.stale }

// Get returns field f, and whether the ticker carries it.
func (r TickerRef) Get(f parse.TickerField) (TickerValue, bool) {
	if f >= parse.NumTickerFields || !r.ts.t.Has(f) {
		return TickerValue{}, false
	}
	ps, ss := r.scales()
	return tickerValue(&r.ts.t, f, ps, ss), true
}

// TradeRef is a read-only reference to one trade just taped, handed to
// OnTrade hooks; valid only during the call.
type TradeRef struct {
	symRef
	t   *parse.Trade
	seq int64
}

// Time returns the fill time, ms.
func (r TradeRef) Time() int64 { return r.t.Time }

// Side returns the taker side.
func (r TradeRef) Side() parse.Side { return r.t.Side }

// Price returns the trade price.
func (r TradeRef) Price() Decimal {
	ps, _ := r.scales()
	return NewDecimal(r.t.Price, ps)
}

// Size returns the trade size.
func (r TradeRef) Size() Decimal {
	_, ss := r.scales()
	return NewDecimal(r.t.Size, ss)
}

// ID returns the trade id; the bytes are valid only during the call.
func (r TradeRef) ID() []byte { return r.t.ID() }

// BlockTrade reports a block trade.
func (r TradeRef) BlockTrade() bool { return r.t.BlockTrade }

// RPI reports a trade against a retail-price-improvement order.
func (r TradeRef) RPI() bool { return r.t.RPI }

// Seq returns the trade's cross sequence (0 where Bybit sends none).
func (r TradeRef) Seq() int64 { return r.seq }
