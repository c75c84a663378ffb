package ringfeed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ringfeed/ringfeed/net/session"
)

// Several categories in one process.
//
// Bybit serves each category on its own WebSocket endpoint, and a symbol
// name means different instruments in different categories (BTCUSDT spot
// and BTCUSDT linear). An Engine built from Config.Streams composes one
// engine per category — each exactly the single-category engine, with its
// own symbol table, connections, processors and metrics — behind one
// Engine: one Run, one admin server, one /metrics, one set of hooks, and a
// connect-rate limit shared by every connection. Every metric series
// carries its category label, and the state API takes ?category= where a
// symbol is served in more than one.

// Stream is one category's part of a several-category configuration: its
// symbols and topic kinds, as Config.Category, Symbols and Topics are for
// one category.
type Stream struct {
	Category Category
	Symbols  []string
	Topics   []string
}

// ParseStream reads the --stream form "category:SYM1,SYM2:topic1,topic2",
// e.g. "spot:BTCUSDT,ETHUSDT:orderbook.50,publicTrade".
func ParseStream(s string) (Stream, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Stream{}, fmt.Errorf("stream %q: want category:SYMBOLS:TOPICS", s)
	}
	list := func(v string) []string {
		var out []string
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		return out
	}
	st := Stream{Category: Category(strings.TrimSpace(parts[0])), Symbols: list(parts[1]), Topics: list(parts[2])}
	if len(st.Symbols) == 0 || len(st.Topics) == 0 {
		return Stream{}, fmt.Errorf("stream %q: needs symbols and topics", s)
	}
	return st, nil
}

// ErrAmbiguousSymbol is returned by the state accessors of an engine that
// serves several categories when the symbol is served in more than one:
// ask the category's engine (Engine.Category).
var ErrAmbiguousSymbol = errors.New("ringfeed: symbol served in several categories; name the category")

// newMulti builds an engine serving every category of cfg.Streams.
func newMulti(cfg Config) (*Engine, error) {
	if cfg.Category != "" || len(cfg.Symbols) > 0 || len(cfg.Topics) > 0 {
		return nil, cfgErr("Streams", "set either Streams or Category, Symbols and Topics, not both")
	}
	if cfg.Record != "" {
		return nil, cfgErr("Record", "a capture holds one category: record with one category at a time")
	}
	if cfg.replay {
		return nil, cfgErr("Streams", "a replay holds one category")
	}
	seen := map[Category]bool{}
	for _, s := range cfg.Streams {
		if seen[s.Category] {
			return nil, cfgErr("Streams", "category %s given twice: list all its symbols in one stream", s.Category)
		}
		seen[s.Category] = true
	}
	// The composite's own settings (admin, logger, hook budget) are the
	// first stream's, validated like any configuration.
	top := cfg
	top.Streams = nil
	top.Category, top.Symbols, top.Topics = cfg.Streams[0].Category, cfg.Streams[0].Symbols, cfg.Streams[0].Topics
	if err := top.Validate(); err != nil {
		return nil, err
	}
	top.Category, top.Symbols, top.Topics = "", nil, nil
	top.Streams = cfg.Streams
	e := &Engine{cfg: top, log: top.Logger, ready: make(chan struct{})}
	// One limiter for every category: Bybit counts new connections per
	// IP and WebSocket domain, and the categories share the domain.
	limiter := session.NewWindowLimiter(top.ConnectLimit, session.ConnectWindow)
	for _, s := range cfg.Streams {
		c := cfg
		c.Streams = nil
		c.Category, c.Symbols, c.Topics = s.Category, s.Symbols, s.Topics
		c.Admin = "off"
		c.Logger = top.Logger.With("category", string(s.Category))
		c.limiter = limiter
		var err error
		if c.WSURL, err = categoryURL(cfg.WSURL, s.Category); err != nil {
			return nil, cfgErr("WSURL", "%v", err)
		}
		child, err := New(c)
		if err != nil {
			// A stream's own settings are named as part of Streams.
			var ce *ConfigError
			if errors.As(err, &ce) {
				switch ce.Field {
				case "Category", "Symbols", "Topics":
					ce.Msg = fmt.Sprintf("%s: %s: %s", s.Category, ce.Field, ce.Msg)
					ce.Field = "Streams"
				default:
					ce.Msg = string(s.Category) + ": " + ce.Msg
				}
			}
			return nil, err
		}
		e.cats = append(e.cats, child)
	}
	return e, nil
}

// categoryURL turns the WebSocket URL of a several-category configuration
// into one category's: Bybit's named endpoints as they are (Validate adds
// the category), a custom URL with its last path segment replaced when it
// names a category (ws://host/v5/public/linear), or the category appended
// when it ends in "/".
func categoryURL(s string, cat Category) (string, error) {
	switch s {
	case "", "mainnet", "testnet":
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	dir, last := u.Path, ""
	if i := strings.LastIndexByte(u.Path, '/'); i >= 0 {
		dir, last = u.Path[:i+1], u.Path[i+1:]
	}
	switch Category(last) {
	case "", Spot, Linear, Inverse, Option:
	default:
		return "", fmt.Errorf("%q: with several categories the URL must end in / or in a category name", s)
	}
	u.Path = dir + string(cat)
	return u.String(), nil
}

// Category returns the engine that serves category c: e itself when it
// serves only c, one of its parts when it serves several, nil when c is
// not served.
func (e *Engine) Category(c Category) *Engine {
	for _, eng := range e.engines() {
		if eng.cfg.Category == c {
			return eng
		}
	}
	return nil
}

// Categories lists the categories e serves, in configuration order.
func (e *Engine) Categories() []Category {
	var out []Category
	for _, eng := range e.engines() {
		out = append(out, eng.cfg.Category)
	}
	return out
}

// forSymbol returns the engine whose state has symbol: e itself, or the
// category engine that serves it when e serves several.
func (e *Engine) forSymbol(symbol string) (*Engine, error) {
	if len(e.cats) == 0 {
		return e, nil
	}
	return e.pick(symbol)
}

// pick returns the engine that serves symbol, for the state accessors of a
// several-category engine.
func (e *Engine) pick(symbol string) (*Engine, error) {
	var found *Engine
	for _, eng := range e.cats {
		if _, _, err := eng.symbol(symbol); err == nil {
			if found != nil {
				return nil, ErrAmbiguousSymbol
			}
			found = eng
		}
	}
	if found == nil {
		return nil, ErrUnknownSymbol
	}
	return found, nil
}

// runMulti runs every category's engine and the shared admin server.
func (e *Engine) runMulti(ctx context.Context) error {
	defer e.markReady()
	e.started = time.Now()
	if err := e.listenAdmin(); err != nil {
		return err
	}
	if err := e.startAdmin(); err != nil {
		return err
	}
	defer e.stopAdmin()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(e.cats))
	var wg sync.WaitGroup
	for i, c := range e.cats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = c.Run(runCtx); errs[i] != nil {
				cancel() // one category failing stops the others
			}
		}()
	}
	go func() {
		for _, c := range e.cats {
			select {
			case <-c.Ready():
			case <-runCtx.Done():
				return
			}
		}
		e.markReady()
	}()
	wg.Wait()
	return errors.Join(errs...)
}

// multiStats adds the figures of every category.
func (e *Engine) multiStats() Stats {
	var s Stats
	for _, c := range e.cats {
		x := c.Stats()
		s.Messages += x.Messages
		s.Lent += x.Lent
		s.Events += x.Events
		s.MsgsPerSec += x.MsgsPerSec
		s.Connected += x.Connected
		s.Conns += x.Conns
		s.Reconnects += x.Reconnects
		s.StaleBooks += x.StaleBooks
		s.Books += x.Books
		s.RingHigh = max(s.RingHigh, x.RingHigh)
		s.RingDrops += x.RingDrops
		s.RecordDrops += x.RecordDrops
		s.HooksOver += x.HooksOver
		s.Resyncs += x.Resyncs
		// Latency figures are per category; the status line shows the
		// worst category's.
		if x.Latency.P99 >= s.Latency.P99 {
			s.Latency, s.LatencyTotal, s.FeedDelay = x.Latency, x.LatencyTotal, x.FeedDelay
		}
	}
	if !e.started.IsZero() {
		s.Uptime = time.Since(e.started)
	}
	return s
}

// multiHealth is every category's health together; stale books are named
// category/symbol@depth.
func (e *Engine) multiHealth() Health {
	var h Health
	for _, c := range e.cats {
		x := c.Health()
		h.Connected += x.Connected
		h.Conns += x.Conns
		cat := string(c.cfg.Category) + "/"
		for _, b := range x.StaleBooks {
			h.StaleBooks = append(h.StaleBooks, cat+b)
		}
		for _, t := range x.Unsubscribed {
			h.Unsubscribed = append(h.Unsubscribed, cat+t)
		}
		for _, t := range x.Stale {
			h.Stale = append(h.Stale, cat+t)
		}
		for _, t := range x.Silent {
			h.Silent = append(h.Silent, cat+t)
		}
	}
	h.OK = h.ok()
	return h
}

// writeCategorySets writes the metrics of every category's set as one
// exposition: each family once, with one HELP and TYPE line, and a
// category label on every series that does not carry one yet (engine-wide
// series such as trades_total; connection series already do).
func (e *Engine) writeCategorySets(w io.Writer) {
	type family struct {
		meta    []byte
		samples []byte
		first   int // the engine whose metadata lines it keeps
	}
	var order []string
	fams := map[string]*family{}
	var buf bytes.Buffer
	for i, eng := range e.engines() {
		eng.syncMetrics()
		buf.Reset()
		eng.set.WritePrometheus(&buf)
		eng.writeHistograms(&buf)
		label := []byte(`category="` + string(eng.cfg.Category) + `"`)
		var cur *family
		for line := range bytes.Lines(buf.Bytes()) {
			if name, ok := metaName(line); ok {
				f := fams[name]
				if f == nil {
					f = &family{first: i}
					fams[name] = f
					order = append(order, name)
				}
				// Metadata of the family's first engine, each line once (a
				// metrics writer may repeat it per series).
				if bytes.HasPrefix(line, []byte("# HELP ")) {
					line = withHelp(line, name)
				}
				if f.first == i && !bytes.Contains(f.meta, line) {
					f.meta = append(f.meta, line...)
				}
				cur = f
				continue
			}
			if cur == nil { // a series without metadata
				name := line[:bytes.IndexAny(line, "{ ")]
				cur = fams[string(name)]
				if cur == nil {
					cur = &family{first: i}
					fams[string(name)] = cur
					order = append(order, string(name))
				}
			}
			cur.samples = appendLabelled(cur.samples, line, label)
		}
	}
	for _, name := range order {
		f := fams[name]
		_, _ = w.Write(f.meta)
		_, _ = w.Write(f.samples)
	}
}

// metaName returns the family a "# HELP" or "# TYPE" line describes.
func metaName(line []byte) (string, bool) {
	for _, p := range [][]byte{[]byte("# HELP "), []byte("# TYPE ")} {
		if rest, ok := bytes.CutPrefix(line, p); ok {
			name, _, _ := bytes.Cut(bytes.TrimSpace(rest), []byte(" "))
			return string(name), true
		}
	}
	return "", false
}

// appendLabelled appends the series line to dst with label added unless
// the series has a category label already.
func appendLabelled(dst, line, label []byte) []byte {
	i := bytes.IndexAny(line, "{ ")
	if i < 0 {
		return append(dst, line...)
	}
	if line[i] == ' ' {
		dst = append(dst, line[:i]...)
		dst = append(dst, '{')
		dst = append(dst, label...)
		dst = append(dst, '}')
		return append(dst, line[i:]...)
	}
	if bytes.Contains(line[:bytes.LastIndexByte(line, '}')+1], []byte(`category="`)) {
		return append(dst, line...)
	}
	dst = append(dst, line[:i+1]...)
	dst = append(dst, label...)
	dst = append(dst, ',')
	return append(dst, line[i+1:]...)
}
