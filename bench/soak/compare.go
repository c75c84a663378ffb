package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/rest"
)

// The admin API's answers, as much of them as the soak compares.
// bookView keeps its levels as [price, size] strings rather than decoding
// into ringfeed.BookView on purpose: the soak checks the engine's decimal
// text to the letter against the simulator's.
type (
	bookView struct {
		Symbol string      `json:"symbol"`
		Depth  int         `json:"depth"`
		U      int64       `json:"u"`
		Stale  bool        `json:"stale"`
		Reason string      `json:"reason"`
		Bids   [][2]string `json:"bids"`
		Asks   [][2]string `json:"asks"`
	}
	klinesView struct {
		Gaps   int64                 `json:"gaps"`
		Klines []ringfeed.CandleView `json:"klines"`
	}
	tickerView struct {
		Stale  bool              `json:"stale"`
		Fields map[string]string `json:"fields"`
	}
)

// comparison is the final state check, made with the simulator paused.
type comparison struct {
	converged   bool
	convergedIn time.Duration
	waitingFor  string // what was still different when the wait gave up

	books, booksEqual int
	levels            int // levels compared, both sides
	bookDiffs         []string

	klines, klinesEqual int // last candle of each window
	closed, closedEqual int // older candles present on both sides
	fromREST            int // of the equal ones, matching REST rather than the stream
	klineDiffs          []string
	closedDiffs         []string

	tickers, tickersEqual int
	tickerFields          int
	tickerDiffs           []string
	unparsed              []string // fields the simulator sends that ringfeed does not keep
}

// klineKick is how long converge lets the simulator run to bring a kline
// stream up to its REST state: longer than the 1 s kline push interval.
const klineKick = 1500 * time.Millisecond

// converge pauses the simulator and waits (bounded) until ringfeed holds
// every book at the simulator's u and live, every ticker live, every last
// candle equal, and /healthz answers 200; then it compares everything.
// The simulator stays paused until the caller resumes it.
func (r *runner) converge(ctx context.Context) *comparison {
	r.sim.Pause()
	t0 := time.Now()
	deadline := t0.Add(convergeTimeout)
	var why string
	kicks := 0
	for {
		why = r.notConverged()
		if why == "" || time.Now().After(deadline) || !r.rf.running() || rest.Sleep(ctx, 100*time.Millisecond) != nil {
			break
		}
		if strings.HasPrefix(why, "kline ") && kicks < 3 && time.Since(t0) > time.Second {
			// Books and tickers agree; a kline window does not. ringfeed
			// may hold the open candle from a REST fill the stream has
			// not caught up with: let the stream publish once more.
			kicks++
			r.logf("converge: %s; resuming the simulator for %v", why, klineKick)
			r.sim.Resume()
			_ = rest.Sleep(ctx, klineKick)
			r.sim.Pause()
		}
	}
	c := r.compare()
	c.converged, c.convergedIn, c.waitingFor = why == "", time.Since(t0), why
	r.logf("converged=%v in %v; books %d/%d equal, klines %d/%d, tickers %d/%d",
		c.converged, c.convergedIn.Round(time.Millisecond), c.booksEqual, c.books, c.klinesEqual, c.klines, c.tickersEqual, c.tickers)
	return c
}

// notConverged returns what still differs, or "".
func (r *runner) notConverged() string {
	if !r.rf.healthy() {
		return "/healthz not 200"
	}
	for _, b := range r.books {
		want, err := r.sim.Book(r.cfg.Category, b.sym, b.depth)
		if err != nil {
			return fmt.Sprintf("simulator book %s@%d: %v", b.sym, b.depth, err)
		}
		var got bookView
		if err := r.rf.getJSON(bookPath(b, 1), &got); err != nil {
			return err.Error()
		}
		if got.Stale || got.U != want.U {
			return fmt.Sprintf("book %s@%d: u %d stale=%v; simulator u %d", b.sym, b.depth, got.U, got.Stale, want.U)
		}
	}
	if r.ticker {
		for _, s := range r.syms {
			var got tickerView
			if err := r.rf.getJSON("/v1/ticker/"+url.PathEscape(s), &got); err != nil {
				return err.Error()
			}
			if got.Stale {
				return "ticker " + s + " stale"
			}
		}
	}
	for _, k := range r.klines {
		if d := r.lastKlineDiff(k); d != "" {
			return d
		}
	}
	return ""
}

func bookPath(b bookKey, levels int) string {
	p := "/v1/book/" + url.PathEscape(b.sym) + "?stream=" + strconv.Itoa(b.depth)
	if levels > 0 {
		p += "&depth=" + strconv.Itoa(levels)
	}
	return p
}

// lastKlineDiff compares the newest candle of a window with the
// simulator's (see klineRefs); "" when equal.
func (r *runner) lastKlineDiff(k klineKey) string {
	sent, rest, err := r.klineRefs(k)
	if err != nil {
		return err.Error()
	}
	var got klinesView
	if err := r.rf.getJSON("/v1/klines/"+url.PathEscape(k.sym)+"/"+url.PathEscape(k.iv)+"?limit=1", &got); err != nil {
		return err.Error()
	}
	if len(got.Klines) == 0 {
		return "kline " + k.sym + " " + k.iv + ": empty window"
	}
	g := got.Klines[len(got.Klines)-1]
	if d, _ := candleMatch(g, sent, rest); d != "" {
		return "kline " + k.sym + " " + k.iv + " newest candle: " + d
	}
	if newest := sent[len(sent)-1].Start; g.Start < newest {
		return fmt.Sprintf("kline %s %s: newest candle %d is behind the stream's %d", k.sym, k.iv, g.Start, newest)
	}
	return ""
}

// klineRefs returns the simulator's two views of a kline series: the
// candles sent on the stream (by start) and its REST rows. A client may
// legitimately hold either for a candle: ringfeed fills its window from
// REST after a gap, and REST shows the open candle as the market has it
// now, which can be ahead of the last stream message by up to the stream's
// push interval (and a whole candle when the pause fell across a candle
// boundary).
func (r *runner) klineRefs(k klineKey) ([]bybitsim.KlineRow, map[int64][7]string, error) {
	sent, err := r.sim.Kline(r.cfg.Category, k.sym, k.iv)
	if err != nil || len(sent) == 0 {
		return nil, nil, fmt.Errorf("simulator kline %s %s: %d rows, %v", k.sym, k.iv, len(sent), err)
	}
	q := url.Values{"category": {r.cfg.Category}, "symbol": {k.sym}, "interval": {k.iv}, "limit": {"1000"}}
	resp, err := r.rf.client.Get(r.sim.RESTURL() + "/v5/market/kline?" + q.Encode())
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var env struct {
		RetCode int `json:"retCode"`
		Result  struct {
			List [][7]string `json:"list"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.RetCode != 0 {
		return nil, nil, fmt.Errorf("simulator REST kline %s %s: retCode %d, %v", k.sym, k.iv, env.RetCode, err)
	}
	rest := map[int64][7]string{}
	for _, row := range env.Result.List {
		st, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("simulator REST kline start %q", row[0])
		}
		rest[st] = row
	}
	return sent, rest, nil
}

// candleMatch checks a candle of ringfeed's window against the stream's
// candle with its start, else the REST row. It returns "" and "stream" or
// "rest" when one matches, or the stream's (else REST's) difference.
func candleMatch(g ringfeed.CandleView, sent []bybitsim.KlineRow, rest map[int64][7]string) (string, string) {
	d := fmt.Sprintf("candle %d: neither the stream nor REST has it", g.Start)
	for i := len(sent) - 1; i >= 0; i-- {
		if w := sent[i]; w.Start == g.Start {
			if d = candleDiff(g, w.Start, w.End, w.Open, w.High, w.Low, w.Close, w.Volume, w.Turnover, w.Confirm); d == "" {
				return "", "stream"
			}
			break
		}
	}
	if row, ok := rest[g.Start]; ok {
		// REST rows carry no end and no confirm flag.
		rd := candleDiff(g, g.Start, g.End, row[1], row[2], row[3], row[4], row[5], row[6], g.Confirm)
		if rd == "" {
			return "", "rest"
		}
		d += "; REST: " + rd
	}
	return d, ""
}

// candleDiff names the first field that differs; "" when equal.
func candleDiff(got ringfeed.CandleView, start, end int64, open, high, low, cls, vol, turn string, confirm bool) string {
	switch {
	case got.Start != start:
		return fmt.Sprintf("start got %d; want %d", got.Start, start)
	case got.End != end:
		return fmt.Sprintf("end got %d; want %d", got.End, end)
	case got.Confirm != confirm:
		return fmt.Sprintf("%d confirm got %v; want %v", start, got.Confirm, confirm)
	}
	for _, f := range [][3]string{{"open", got.Open.String(), open}, {"high", got.High.String(), high}, {"low", got.Low.String(), low},
		{"close", got.Close.String(), cls}, {"volume", got.Volume.String(), vol}, {"turnover", got.Turnover.String(), turn}} {
		if !decEqual(f[1], f[2]) {
			return fmt.Sprintf("%d %s got %s; want %s", start, f[0], f[1], f[2])
		}
	}
	return ""
}

// compare checks every level of every book, every kline window (the last
// candle strictly; older candles on both sides are counted) and every
// ticker field against the simulator's reference state.
func (r *runner) compare() *comparison {
	c := &comparison{}
	note := func(list *[]string, format string, args ...any) {
		if len(*list) < 8 {
			*list = append(*list, fmt.Sprintf(format, args...))
		}
	}
	for _, b := range r.books {
		c.books++
		want, err := r.sim.Book(r.cfg.Category, b.sym, b.depth)
		if err != nil {
			note(&c.bookDiffs, "%s@%d: simulator: %v", b.sym, b.depth, err)
			continue
		}
		var got bookView
		if err := r.rf.getJSON(bookPath(b, 0), &got); err != nil {
			note(&c.bookDiffs, "%s@%d: %v", b.sym, b.depth, err)
			continue
		}
		c.levels += len(want.Bids) + len(want.Asks)
		d := levelsDiff("bid", got.Bids, want.Bids)
		if d == "" {
			d = levelsDiff("ask", got.Asks, want.Asks)
		}
		if d == "" && (got.U != want.U || got.Stale) {
			d = fmt.Sprintf("u %d stale=%v; want u %d", got.U, got.Stale, want.U)
		}
		if d != "" {
			note(&c.bookDiffs, "%s@%d: %s", b.sym, b.depth, d)
			continue
		}
		c.booksEqual++
	}
	for _, k := range r.klines {
		c.klines++
		if d := r.lastKlineDiff(k); d != "" {
			note(&c.klineDiffs, "%s", d)
		} else {
			c.klinesEqual++
		}
		sent, rest, err := r.klineRefs(k)
		if err != nil {
			note(&c.closedDiffs, "%v", err)
			continue
		}
		var got klinesView
		if err := r.rf.getJSON("/v1/klines/"+url.PathEscape(k.sym)+"/"+url.PathEscape(k.iv), &got); err != nil {
			note(&c.closedDiffs, "%s %s: %v", k.sym, k.iv, err)
			continue
		}
		// Every older candle ringfeed holds that the simulator has
		// (stream or REST) must match one of them.
		for _, g := range got.Klines[:max(len(got.Klines)-1, 0)] {
			if _, ok := rest[g.Start]; !ok && !slices.ContainsFunc(sent, func(w bybitsim.KlineRow) bool { return w.Start == g.Start }) {
				continue // older than the simulator's history
			}
			c.closed++
			d, src := candleMatch(g, sent, rest)
			if d != "" {
				note(&c.closedDiffs, "%s %s: %s", k.sym, k.iv, d)
				continue
			}
			c.closedEqual++
			if src == "rest" {
				c.fromREST++
			}
		}
	}
	if r.ticker {
		for _, s := range r.syms {
			c.tickers++
			want, err := r.sim.Ticker(r.cfg.Category, s)
			if err != nil {
				note(&c.tickerDiffs, "%s: simulator: %v", s, err)
				continue
			}
			var got tickerView
			if err := r.rf.getJSON("/v1/ticker/"+url.PathEscape(s), &got); err != nil {
				note(&c.tickerDiffs, "%s: %v", s, err)
				continue
			}
			ok := !got.Stale
			if got.Stale {
				note(&c.tickerDiffs, "%s: stale", s)
			}
			for _, f := range sortedKeys(want) {
				if f == "symbol" {
					continue
				}
				g, has := got.Fields[f]
				if !has {
					if !slices.Contains(c.unparsed, f) {
						c.unparsed = append(c.unparsed, f)
					}
					continue
				}
				c.tickerFields++
				if !valueEqual(g, want[f]) {
					ok = false
					note(&c.tickerDiffs, "%s %s: got %q; want %q", s, f, g, want[f])
				}
			}
			for _, f := range sortedKeys(got.Fields) {
				if _, has := want[f]; !has {
					ok = false
					note(&c.tickerDiffs, "%s %s: got %q; the simulator never sent it", s, f, got.Fields[f])
				}
			}
			if ok {
				c.tickersEqual++
			}
		}
	}
	return c
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// levelsDiff compares one side of a book, best first, by decimal value.
func levelsDiff(side string, got, want [][2]string) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d %s levels; want %d", len(got), side, len(want))
	}
	for i := range want {
		if !decEqual(got[i][0], want[i][0]) || !decEqual(got[i][1], want[i][1]) {
			return fmt.Sprintf("%s level %d got %s@%s; want %s@%s", side, i, got[i][1], got[i][0], want[i][1], want[i][0])
		}
	}
	return ""
}

// valueEqual compares two field values: decimals by value, anything else
// (tick directions, empty values) as strings.
func valueEqual(a, b string) bool { return a == b || decEqual(a, b) }

// decEqual reports whether two decimal strings denote the same number:
// "65000.10" == "65000.1", "0.50" == ".5", "-0" == "0". Strings that are
// not plain decimals are equal only if identical.
func decEqual(a, b string) bool {
	if a == b {
		_, ok := normDec(a)
		return ok
	}
	na, oka := normDec(a)
	nb, okb := normDec(b)
	return oka && okb && na == nb
}

// normDec returns the canonical form of a plain decimal: no sign for
// zero, no leading zeros in the integer part, no trailing zeros in the
// fraction.
func normDec(s string) (string, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	ip, fp, dot := strings.Cut(s, ".")
	if ip == "" && fp == "" || dot && fp == "" && ip == "" {
		return "", false
	}
	for _, p := range []string{ip, fp} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "", false
			}
		}
	}
	ip = strings.TrimLeft(ip, "0")
	fp = strings.TrimRight(fp, "0")
	if ip == "" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, true
}
