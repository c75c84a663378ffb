package ringfeed

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// Dump is the engine's final state in the admin API's shapes.
type Dump struct {
	Books   []BookView   `json:"books"`
	Klines  []KlinesView `json:"klines"`
	Tickers []TickerView `json:"tickers"`
}

// ReplayResult summarises a replay.
type ReplayResult struct {
	Frames      int
	ParseErrors int
	Elapsed     time.Duration
	Stats       Stats
	Dump        Dump
}

// MsgsPerSec is the replay's throughput: messages applied per second of
// wall time from the first frame fed to the last one applied.
func (r ReplayResult) MsgsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Stats.Messages) / r.Elapsed.Seconds()
}

// StaleBooks counts books that ended stale.
func (r ReplayResult) StaleBooks() int {
	n := 0
	for _, b := range r.Dump.Books {
		if b.Stale {
			n++
		}
	}
	return n
}

// Replay feeds frames through the same pipeline a live connection uses
// (parser → ring → processor) on one connection and one processor, so the
// result is deterministic, and returns the figures and the final state.
// Symbols and topics the config does not name are discovered from the
// frames. speed 0 replays as fast as possible; otherwise frames with
// receive times are paced at speed × real time. Receive times for latency
// are taken when each frame is fed, as a live reader would.
func Replay(ctx context.Context, cfg Config, frames []Frame, speed float64) (ReplayResult, error) {
	if len(cfg.Symbols) == 0 || len(cfg.Topics) == 0 {
		syms, topics := discover(frames)
		if len(cfg.Symbols) == 0 {
			cfg.Symbols = syms
		}
		if len(cfg.Topics) == 0 {
			cfg.Topics = topics
		}
	}
	cfg.Admin = "off"
	cfg.NoKlineHistory = true
	cfg.Record = ""
	cfg.Processors = 1
	// A replay must not drop: the feeder waits for the processor as long
	// as it takes, so every run applies every frame.
	cfg.RingFullWait = time.Hour
	cfg.SymbolsPerConn = max(1, len(cfg.Symbols))
	cfg.replay = true
	e, err := New(cfg)
	if err != nil {
		return ReplayResult{}, err
	}
	res := ReplayResult{Frames: len(frames)}
	c := e.conns[0]
	c.feed = func(ctx context.Context) error {
		p := parse.NewParser(e.syms)
		c.sink.Reset()
		var first, base int64
		for i := range frames {
			if ctx.Err() != nil {
				return nil
			}
			f := &frames[i]
			if speed > 0 && f.RecvUnixNs != 0 {
				if first == 0 {
					first, base = f.RecvUnixNs, wsconn.Nanotime()
				}
				due := base + int64(float64(f.RecvUnixNs-first)/speed)
				if d := due - wsconn.Nanotime(); d > 0 {
					time.Sleep(time.Duration(d))
				}
			}
			r, err := p.Parse(f.Data, wsconn.Nanotime(), c.sink)
			if err != nil {
				res.ParseErrors++
				c.sink.Abort(r, err)
			} else {
				c.sink.Commit()
			}
			c.sink.Flush()
		}
		return nil
	}
	start := time.Now()
	if err := e.Run(ctx); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	res.Stats = e.Stats()
	res.Dump = e.Dump(context.Background())
	return res, nil
}

// Dump returns every book, kline window and ticker in the API's shapes.
func (e *Engine) Dump(ctx context.Context) Dump {
	var d Dump
	for _, st := range e.bySym {
		if st == nil {
			continue
		}
		for _, bs := range st.books {
			if v, err := e.Book(ctx, st.name, int(bs.depth), 0); err == nil {
				d.Books = append(d.Books, v)
			}
		}
		for _, ks := range st.klines {
			if v, err := e.Klines(ctx, st.name, ks.code, 0); err == nil {
				d.Klines = append(d.Klines, v)
			}
		}
		if st.ticker != nil {
			if v, err := e.Ticker(ctx, st.name); err == nil {
				d.Tickers = append(d.Tickers, v)
			}
		}
	}
	return d
}

// discover lists the symbols and topic kinds a capture carries.
func discover(frames []Frame) (symbols, topics []string) {
	var p fastjson.Parser
	syms := map[string]bool{}
	kinds := map[string]bool{}
	for _, f := range frames {
		v, err := p.ParseBytes(f.Data)
		if err != nil {
			continue
		}
		t := string(v.GetStringBytes("topic"))
		if t == "" {
			continue
		}
		i := strings.LastIndexByte(t, '.')
		if i < 0 {
			continue
		}
		kind, sym := t[:i], t[i+1:]
		kinds[kind] = true
		if kind == "publicTrade" {
			// Option trades come on publicTrade.{BASE}: the symbols
			// are in the trades.
			for _, tr := range v.GetArray("data") {
				if s := string(tr.GetStringBytes("s")); s != "" {
					syms[s] = true
				}
			}
			continue
		}
		syms[sym] = true
	}
	for s := range syms {
		symbols = append(symbols, s)
	}
	for k := range kinds {
		topics = append(topics, k)
	}
	sort.Strings(symbols)
	sort.Strings(topics)
	return symbols, topics
}
