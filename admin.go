package ringfeed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

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

// adminEndpoints is the list the 404 answer and the start-up log give.
const adminEndpoints = "/v1/symbols /v1/book/{symbol} /v1/klines/{symbol}/{interval} /v1/ticker/{symbol} /v1/trades/{symbol} /healthz /metrics /debug/pprof/"

// Handler returns the admin HTTP handler: /metrics, /debug/pprof/, the
// /v1 state API and /healthz. Run serves it on Config.Admin; tests and
// embedders may mount it elsewhere.
//
// Every answer of the /v1 API and every error is JSON; a method other
// than GET or HEAD answers 405 with an Allow header.
func (e *Engine) Handler() http.Handler {
	mux := http.NewServeMux()
	get := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				writeJSON(w, http.StatusMethodNotAllowed, apiError{"method " + r.Method + " not allowed; use GET"})
				return
			}
			h(w, r)
		})
	}
	get("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		e.WritePrometheus(w)
	})
	mux.HandleFunc("/debug/pprof/", jsonErrors(pprof.Index))
	mux.HandleFunc("/debug/pprof/cmdline", jsonErrors(pprof.Cmdline))
	mux.HandleFunc("/debug/pprof/profile", jsonErrors(pprof.Profile))
	mux.HandleFunc("/debug/pprof/symbol", jsonErrors(pprof.Symbol))
	mux.HandleFunc("/debug/pprof/trace", jsonErrors(pprof.Trace))
	get("/v1/symbols", e.handleSymbols)
	get("/v1/book/{symbol}", e.handleBook)
	get("/v1/klines/{symbol}/{interval}", e.handleKlines)
	get("/v1/ticker/{symbol}", e.handleTicker)
	get("/v1/trades/{symbol}", e.handleTrades)
	get("/healthz", e.handleHealth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{"no such endpoint; see " + adminEndpoints})
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
	e.log.Info("admin server listening", "url", "http://"+e.adminAddr, "endpoints", adminEndpoints)
	e.admin = &http.Server{
		Handler:           e.Handler(),
		ReadHeaderTimeout: adminReadTimeout,
		ReadTimeout:       adminReadTimeout,
		WriteTimeout:      adminWriteTimeout,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    adminHeaderBytes,
	}
	go func() {
		if err := e.admin.Serve(jsonErrorListener{ln}); err != nil && !errors.Is(err, http.ErrServerClosed) {
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

// jsonErrorListener makes the errors net/http answers by itself, before
// any handler runs (431 for headers beyond MaxHeaderBytes, 400 for a
// malformed request, 501 for an unsupported transfer encoding), JSON like
// every other error of the admin API. The server writes those as one
// plain-text response straight to the connection and closes it; the
// connection wrapper recognises that write by its fixed header block and
// rewrites the body as {"error": "..."}.
type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return jsonErrorConn{c}, nil
}

type jsonErrorConn struct{ net.Conn }

// serverErrorHeaders is what net/http writes after the status line of an
// error it answers itself (net/http/server.go, conn.serve).
const serverErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c jsonErrorConn) Write(p []byte) (int, error) {
	status, body, ok := bytes.Cut(p, []byte(serverErrorHeaders))
	if !ok || !bytes.HasPrefix(status, []byte("HTTP/1.1 4")) && !bytes.HasPrefix(status, []byte("HTTP/1.1 5")) {
		return c.Conn.Write(p)
	}
	msg, _ := json.Marshal(apiError{string(body)})
	out := make([]byte, 0, len(status)+len(msg)+80)
	out = append(out, status...)
	out = append(out, "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(msg)+1), 10)
	out = append(out, "\r\n\r\n"...)
	out = append(out, msg...)
	out = append(out, '\n')
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// jsonErrors makes the plain-text errors of a handler that is not ours
// (pprof's "Unknown profile", say) JSON like every other admin error; its
// successful answers pass through untouched.
func jsonErrors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		jw := &jsonErrorWriter{ResponseWriter: w}
		h(jw, r)
		if jw.code >= 400 {
			writeJSON(w, jw.code, apiError{strings.TrimSpace(jw.body.String())})
		}
	}
}

// jsonErrorWriter holds back an error status and its body.
type jsonErrorWriter struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (w *jsonErrorWriter) WriteHeader(code int) {
	if code >= 400 {
		w.code = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonErrorWriter) Write(p []byte) (int, error) {
	if w.code >= 400 {
		return w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush lets a streaming answer (a CPU profile, a trace) through.
func (w *jsonErrorWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.code < 400 {
		f.Flush()
	}
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

// lookup finds the engine and symbol a request names: the {symbol} path
// value and the optional category parameter. It answers the request itself
// (404, or 400 for a bad category) and returns nil when there is none. It
// never echoes unknown input into logs.
func (e *Engine) lookup(w http.ResponseWriter, r *http.Request) (*Engine, *symState) {
	name := r.PathValue("symbol")
	cat := Category(r.URL.Query().Get("category"))
	switch cat {
	case "", Spot, Linear, Inverse, Option:
	default:
		badRequest(w, "unknown category "+strconv.Quote(string(cat))+"; want spot, linear, inverse or option")
		return nil, nil
	}
	var found []*Engine
	var st *symState
	for _, eng := range e.engines() {
		if cat != "" && eng.cfg.Category != cat {
			continue
		}
		if s, _, err := eng.symbol(name); err == nil {
			found = append(found, eng)
			st = s
		}
	}
	switch len(found) {
	case 0:
		msg := "unknown symbol " + strconv.Quote(name)
		if cat != "" {
			msg += " in category " + string(cat)
		}
		writeJSON(w, http.StatusNotFound, apiError{msg})
		return nil, nil
	case 1:
		return found[0], st
	}
	cats := make([]string, len(found))
	for i, f := range found {
		cats[i] = string(f.cfg.Category)
	}
	badRequest(w, "symbol "+strconv.Quote(name)+" is served in "+strings.Join(cats, " and ")+": add ?category=")
	return nil, nil
}

// engines returns the engines whose state this one serves: itself, or
// each category's engine when it serves several.
func (e *Engine) engines() []*Engine {
	if len(e.cats) > 0 {
		return e.cats
	}
	return []*Engine{e}
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

func answer(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, v)
	case errors.Is(err, ErrUnknownSymbol), errors.Is(err, ErrNoStream):
		writeJSON(w, http.StatusNotFound, apiError{err.Error()})
	case errors.Is(err, ErrAmbiguousSymbol):
		writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
	default:
		writeJSON(w, http.StatusServiceUnavailable, apiError{err.Error()})
	}
}

// SymbolsView is the /v1/symbols answer.
type SymbolsView struct {
	Symbols []SymbolView `json:"symbols"`
}

func (e *Engine) handleSymbols(w http.ResponseWriter, r *http.Request) {
	v := SymbolsView{Symbols: e.Symbols()}
	writeJSON(w, http.StatusOK, v)
}

func (e *Engine) handleBook(w http.ResponseWriter, r *http.Request) {
	eng, st := e.lookup(w, r)
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
	v, err := eng.Book(ctx, st.name, stream, depth)
	answer(w, v, err)
}

func (e *Engine) handleKlines(w http.ResponseWriter, r *http.Request) {
	eng, st := e.lookup(w, r)
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
	v, err := eng.Klines(ctx, st.name, iv, limit)
	answer(w, v, err)
}

func (e *Engine) handleTicker(w http.ResponseWriter, r *http.Request) {
	eng, st := e.lookup(w, r)
	if st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), adminQueryTimeout)
	defer cancel()
	v, err := eng.Ticker(ctx, st.name)
	answer(w, v, err)
}

func (e *Engine) handleTrades(w http.ResponseWriter, r *http.Request) {
	eng, st := e.lookup(w, r)
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
	v, err := eng.Trades(ctx, st.name, limit)
	answer(w, v, err)
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

// ok reports whether h describes a healthy engine.
func (h *Health) ok() bool {
	return h.Connected == h.Conns && len(h.StaleBooks) == 0 && len(h.Unsubscribed) == 0 &&
		len(h.Stale) == 0 && len(h.Silent) == 0
}

// Health reports whether every connection is up and every subscribed
// stream live: acked, not stale, not silent. It reads only published
// state (the sessions' topic states, the books' seqlock tops, the other
// streams' published stale flags) and never waits on a processor.
func (e *Engine) Health() Health {
	if len(e.cats) > 0 {
		return e.multiHealth()
	}
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
	h.OK = h.ok()
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
