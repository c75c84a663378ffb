package ringfeed

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/parse"
)

// Admin server limits: every request is a small GET; pprof's CPU profile
// is the only slow answer (up to its seconds parameter).
const (
	adminHeaderBytes  = 8 << 10
	adminReadTimeout  = 5 * time.Second
	adminWriteTimeout = 70 * time.Second
	adminQueryTimeout = 2 * time.Second
	maxDepthParam     = 1000
	maxLimitParam     = 100000
)

// Handler returns the admin HTTP handler: /metrics, /debug/pprof/, the
// /v1 state API and /healthz. Run serves it on Config.Admin; tests and
// embedders may mount it elsewhere.
func (e *Engine) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		e.WritePrometheus(w)
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /v1/book/{symbol}", e.handleBook)
	mux.HandleFunc("GET /v1/klines/{symbol}/{interval}", e.handleKlines)
	mux.HandleFunc("GET /v1/ticker/{symbol}", e.handleTicker)
	mux.HandleFunc("GET /v1/trades/{symbol}", e.handleTrades)
	mux.HandleFunc("GET /healthz", e.handleHealth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{"no such endpoint; see /v1/book/{symbol}, /v1/klines/{symbol}/{interval}, /v1/ticker/{symbol}, /v1/trades/{symbol}, /healthz, /metrics, /debug/pprof/"})
	})
	return mux
}

// listenAdmin binds the admin address, first thing in Run, so that a
// taken port fails the start at once rather than after the REST calls.
func (e *Engine) listenAdmin() error {
	if e.cfg.Admin == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", e.cfg.Admin)
	if err != nil {
		return cfgErr("Admin", "listen: %v", err)
	}
	e.adminLn = ln
	return nil
}

// startAdmin serves on the listener listenAdmin bound.
func (e *Engine) startAdmin() error {
	ln := e.adminLn
	if ln == nil {
		return nil
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		e.log.Warn("admin server listens beyond loopback: /debug/pprof and the state API are exposed", "addr", ln.Addr().String())
	}
	e.adminAddr = ln.Addr().String()
	e.log.Info("admin server listening", "url", "http://"+e.adminAddr, "endpoints", "/metrics /healthz /v1/book/{symbol} /v1/klines/{symbol}/{interval} /v1/ticker/{symbol} /v1/trades/{symbol} /debug/pprof/")
	e.admin = &http.Server{
		Handler:           e.Handler(),
		ReadHeaderTimeout: adminReadTimeout,
		ReadTimeout:       adminReadTimeout,
		WriteTimeout:      adminWriteTimeout,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    adminHeaderBytes,
	}
	go func() {
		if err := e.admin.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("admin server stopped", "err", err)
		}
	}()
	return nil
}

func (e *Engine) stopAdmin() {
	if e.admin == nil {
		if e.adminLn != nil {
			e.adminLn.Close() // bound, never served: Run failed at start
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = e.admin.Shutdown(ctx)
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, apiError{msg})
}

// lookup finds a symbol by its path value; it never echoes unknown input
// into logs.
func (e *Engine) lookup(w http.ResponseWriter, r *http.Request) *symState {
	name := r.PathValue("symbol")
	st, _, err := e.symbol(name)
	if err != nil {
		writeJSON(w, http.StatusNotFound, apiError{"unknown symbol " + strconv.Quote(name)})
		return nil
	}
	return st
}

// intParam parses an optional positive integer query parameter.
func intParam(r *http.Request, name string, def, maxv int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxv {
		return 0, errors.New(name + " must be an integer in [1, " + strconv.Itoa(maxv) + "]")
	}
	return n, nil
}

// symbol finds a configured symbol's state.
func (e *Engine) symbol(name string) (*symState, uint32, error) {
	id, ok := e.syms.Lookup([]byte(name))
	if !ok || int(id) >= len(e.bySym) || e.bySym[id] == nil {
		return nil, 0, ErrUnknownSymbol
	}
	return e.bySym[id], id, nil
}

// BookView is the /v1/book answer.
type BookView struct {
	Symbol string      `json:"symbol"`
	Depth  int         `json:"depth"`
	U      int64       `json:"u"`
	Seq    int64       `json:"seq"`
	TS     int64       `json:"ts"`
	CTS    int64       `json:"cts,omitempty"`
	Stale  bool        `json:"stale"`
	Reason string      `json:"reason,omitempty"`
	Bids   [][2]string `json:"bids"`
	Asks   [][2]string `json:"asks"`
}

// Book returns a consistent copy of a symbol's book (the deepest
// subscribed stream unless depth names one), read on its processor. levels
// caps the levels per side (0: all).
func (e *Engine) Book(ctx context.Context, symbol string, stream, levels int) (BookView, error) {
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
	v := BookView{Symbol: symbol, Depth: int(bs.depth), U: h.U, Seq: h.Seq, TS: h.TS, CTS: h.CTS, Stale: stale,
		Bids: formatLevels(bids, ps, ss), Asks: formatLevels(asks, ps, ss)}
	if stale {
		v.Reason = reason.String()
	}
	return v, nil
}

func formatLevels(ls []book.Level, ps, ss int) [][2]string {
	out := make([][2]string, len(ls))
	var buf []byte
	for i, l := range ls {
		buf = parse.AppendDecimal(buf[:0], l.Price, ps)
		out[i][0] = string(buf)
		buf = parse.AppendDecimal(buf[:0], l.Size, ss)
		out[i][1] = string(buf)
	}
	return out
}

// Errors of the state accessors.
var (
	ErrUnknownSymbol = errors.New("ringfeed: unknown symbol")
	ErrNoStream      = errors.New("ringfeed: topic not subscribed for this symbol")
)

func (e *Engine) handleBook(w http.ResponseWriter, r *http.Request) {
	st := e.lookup(w, r)
	if st == nil {
		return
	}
	depth, err := intParam(r, "depth", 0, maxDepthParam)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	stream, err := intParam(r, "stream", 0, maxDepthParam)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), adminQueryTimeout)
	defer cancel()
	v, err := e.Book(ctx, st.name, stream, depth)
	e.answer(w, v, err)
}

func (e *Engine) answer(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, v)
	case errors.Is(err, ErrUnknownSymbol), errors.Is(err, ErrNoStream):
		writeJSON(w, http.StatusNotFound, apiError{err.Error()})
	default:
		writeJSON(w, http.StatusServiceUnavailable, apiError{err.Error()})
	}
}

// CandleView is one kline in the API's shape: decimal strings, like Bybit.
type CandleView struct {
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
	Open     string `json:"open"`
	High     string `json:"high"`
	Low      string `json:"low"`
	Close    string `json:"close"`
	Volume   string `json:"volume"`
	Turnover string `json:"turnover"`
	Confirm  bool   `json:"confirm"`
}

// KlinesView is the /v1/klines answer, oldest candle first.
type KlinesView struct {
	Symbol   string `json:"symbol"`
	Interval string `json:"interval"`
	Gaps     int64  `json:"gaps"`
	// Stale: the topic went silent; no kline message since.
	Stale  bool         `json:"stale"`
	Klines []CandleView `json:"klines"`
}

// Klines returns up to limit newest candles of a symbol's window, oldest
// first.
func (e *Engine) Klines(ctx context.Context, symbol, interval string, limit int) (KlinesView, error) {
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
	v := KlinesView{Symbol: symbol, Interval: interval, Gaps: gaps, Stale: stale, Klines: make([]CandleView, len(cs))}
	for i, c := range cs {
		v.Klines[i] = CandleView{
			Start: c.Start, End: c.End,
			Open: dec(c.Open, ps), High: dec(c.High, ps), Low: dec(c.Low, ps), Close: dec(c.Close, ps),
			Volume: dec(c.Volume, ss), Turnover: dec(c.Turnover, parse.ValueScale), Confirm: c.Confirmed,
		}
	}
	return v, nil
}

func dec(v int64, scale int) string { return string(parse.AppendDecimal(nil, v, scale)) }

func (e *Engine) handleKlines(w http.ResponseWriter, r *http.Request) {
	st := e.lookup(w, r)
	if st == nil {
		return
	}
	limit, err := intParam(r, "limit", 0, maxLimitParam)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	iv := r.PathValue("interval")
	if _, err := parse.ParseInterval([]byte(iv)); err != nil {
		badRequest(w, "unknown interval "+strconv.Quote(iv))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), adminQueryTimeout)
	defer cancel()
	v, err := e.Klines(ctx, st.name, iv, limit)
	e.answer(w, v, err)
}

// TickerView is the /v1/ticker answer: every field the ticker carries, by
// Bybit's key, as a decimal string ("" for Bybit's empty values).
type TickerView struct {
	Symbol string            `json:"symbol"`
	TS     int64             `json:"ts"`
	CS     int64             `json:"cs,omitempty"`
	Stale  bool              `json:"stale"`
	Fields map[string]string `json:"fields"`
}

// Ticker returns a copy of a symbol's merged ticker.
func (e *Engine) Ticker(ctx context.Context, symbol string) (TickerView, error) {
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
	_, ss := e.syms.Scales(id)
	v := TickerView{Symbol: symbol, TS: ts, CS: cs, Stale: stale, Fields: map[string]string{}}
	for f := parse.TickerField(0); f < parse.NumTickerFields; f++ {
		if !t.Has(f) {
			continue
		}
		if t.IsEmpty(f) {
			v.Fields[f.String()] = ""
			continue
		}
		v.Fields[f.String()] = tickerString(f, t.Values[f], ss)
	}
	return v, nil
}

func (e *Engine) handleTicker(w http.ResponseWriter, r *http.Request) {
	st := e.lookup(w, r)
	if st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), adminQueryTimeout)
	defer cancel()
	v, err := e.Ticker(ctx, st.name)
	e.answer(w, v, err)
}

// TradeView is one trade in the API's shape.
type TradeView struct {
	Time       int64  `json:"T"`
	Side       string `json:"S"`
	Price      string `json:"p"`
	Size       string `json:"v"`
	ID         string `json:"i"`
	BlockTrade bool   `json:"BT"`
	RPI        bool   `json:"RPI,omitempty"`
	Seq        int64  `json:"seq,omitempty"`
}

// TradesView is the /v1/trades answer, newest first.
type TradesView struct {
	Symbol string `json:"symbol"`
	Dups   uint64 `json:"duplicates"`
	// Stale: the topic went silent; no trade since.
	Stale  bool        `json:"stale"`
	Trades []TradeView `json:"trades"`
}

// Trades returns up to limit newest trades of a symbol's tape.
func (e *Engine) Trades(ctx context.Context, symbol string, limit int) (TradesView, error) {
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
		stale = st.tradeSilent.get()
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
	})
	if err != nil {
		return TradesView{}, err
	}
	ps, ss := e.syms.Scales(id)
	v := TradesView{Symbol: symbol, Dups: dups, Stale: stale, Trades: make([]TradeView, len(trades))}
	for i := range trades {
		t := &trades[i]
		v.Trades[i] = TradeView{Time: t.Time, Side: t.Side.String(), Price: dec(t.Price, ps), Size: dec(t.Size, ss),
			ID: string(t.ID()), BlockTrade: t.BlockTrade, RPI: t.RPI, Seq: seqs[i]}
	}
	return v, nil
}

func (e *Engine) handleTrades(w http.ResponseWriter, r *http.Request) {
	st := e.lookup(w, r)
	if st == nil {
		return
	}
	limit, err := intParam(r, "limit", 100, maxLimitParam)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), adminQueryTimeout)
	defer cancel()
	v, err := e.Trades(ctx, st.name, limit)
	e.answer(w, v, err)
}

// Health is the /healthz answer.
type Health struct {
	OK         bool     `json:"ok"`
	Connected  int      `json:"connected"`
	Conns      int      `json:"connections"`
	StaleBooks []string `json:"stale_books,omitempty"` // symbol@depth
	// Unsubscribed names the topics not acked on a live connection: a
	// subscribe answered success:false (retried with backoff), a
	// resubscribe under way, or the connection down.
	Unsubscribed []string `json:"unsubscribed,omitempty"`
	// Stale names the topics whose state is stale: books (also in
	// StaleBooks), tickers waiting for a snapshot, and tickers, kline
	// windows and trade tapes whose topic went silent (until its next
	// message).
	Stale []string `json:"stale,omitempty"`
	// Silent names the topics silent past their threshold, with no
	// message since (they are being resubscribed).
	Silent []string `json:"silent,omitempty"`
}

// Health reports whether every connection is up and every subscribed
// stream live: acked, not stale, not silent. It reads only published
// state (the sessions' topic states, the books' seqlock tops, the other
// streams' published stale flags) and never waits on a processor.
func (e *Engine) Health() Health {
	h := Health{Conns: len(e.conns)}
	for _, c := range e.conns {
		if c.sess != nil {
			if c.sess.Connected() {
				h.Connected++
			}
			for i := range c.sess.NumTopics() {
				ts := c.sess.TopicState(i)
				if !ts.Subscribed {
					h.Unsubscribed = append(h.Unsubscribed, c.sess.Topic(i))
				}
				if ts.Silent {
					h.Silent = append(h.Silent, c.sess.Topic(i))
				}
			}
		}
		trades := "" // an option publicTrade topic serves many symbols
		for _, st := range c.syms {
			for _, bs := range st.books {
				if q, ok := bs.b.Top().Load(); !ok || q.Stale {
					h.StaleBooks = append(h.StaleBooks, st.name+"@"+strconv.Itoa(int(bs.depth)))
					h.Stale = append(h.Stale, bs.topic)
				}
			}
			if st.ticker != nil && (!st.ticker.live.Load() || st.ticker.silent.published()) {
				h.Stale = append(h.Stale, st.ticker.topic)
			}
			for _, ks := range st.klines {
				if ks.silent.published() {
					h.Stale = append(h.Stale, ks.topic)
				}
			}
			if st.tape != nil && st.tradeSilent.published() && st.trade != trades {
				trades = st.trade
				h.Stale = append(h.Stale, st.trade)
			}
		}
	}
	h.OK = h.Connected == h.Conns && len(h.StaleBooks) == 0 && len(h.Unsubscribed) == 0 &&
		len(h.Stale) == 0 && len(h.Silent) == 0
	return h
}

func (e *Engine) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := e.Health()
	code := http.StatusOK
	if !h.OK {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// tickerString formats one ticker field: decimals at the field's scale,
// times as integer ms, the tick direction by name.
func tickerString(f parse.TickerField, v int64, sizeScale int) string {
	if f == parse.TickTickDirection {
		return parse.TickDirection(v).String()
	}
	return dec(v, f.Scale(sizeScale))
}
