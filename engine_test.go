package ringfeed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// harness is a simulator and an engine connected to it over loopback, with
// the engine's admin server on an ephemeral port.
type harness struct {
	t      *testing.T
	sim    *bybitsim.Server
	e      *Engine
	cancel context.CancelFunc
	done   chan error
	client *http.Client
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startHarness(t *testing.T, simCfg bybitsim.Config, cfg Config, setup ...func(*Engine)) *harness {
	t.Helper()
	sim, err := bybitsim.Start(simCfg)
	if err != nil {
		t.Fatalf("bybitsim.Start: %v", err)
	}
	return startHarnessOn(t, sim, cfg, setup...)
}

// startHarnessOn is startHarness on a simulator the caller started (and
// prepared, e.g. with faults to meet the first connection); the harness
// closes it.
func startHarnessOn(t *testing.T, sim *bybitsim.Server, cfg Config, setup ...func(*Engine)) *harness {
	t.Helper()
	if cfg.Category == "" {
		cfg.Category = Linear
	}
	cfg.WSURL = sim.URL(string(cfg.Category))
	cfg.RESTURL = sim.RESTURL()
	if cfg.Admin == "" {
		cfg.Admin = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
		if testing.Verbose() {
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
	}
	if len(cfg.Symbols) == 0 {
		cfg.Symbols = sim.Symbols(string(cfg.Category))
	}
	e, err := New(cfg)
	if err != nil {
		sim.Close()
		t.Fatalf("New: %v", err)
	}
	for _, f := range setup {
		f(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, sim: sim, e: e, cancel: cancel, done: make(chan error, 1),
		client: &http.Client{Timeout: 5 * time.Second}}
	go func() { h.done <- e.Run(ctx) }()
	select {
	case <-e.Ready():
	case err := <-h.done:
		sim.Close()
		t.Fatalf("Run ended at start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("engine not ready after 10s")
	}
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		h.t.Error("Run did not return 15s after cancel")
	}
	h.sim.Close()
}

// get fetches an admin path into v and returns the status code.
func (h *harness) get(path string, v any) int {
	h.t.Helper()
	resp, err := h.client.Get("http://" + h.e.AdminAddr() + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			h.t.Fatalf("GET %s: %v in %q", path, err, body)
		}
	}
	return resp.StatusCode
}

// waitFor polls cond every 20 ms for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decimalEq compares two decimal strings by value ("65000.10" ==
// "65000.1"), without a scale limit.
func decimalEq(a, b string) bool {
	na, nb := normDecimal(a), normDecimal(b)
	return na != "" && na == nb
}

func normDecimal(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return ""
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	if s == "" || s[0] == '.' {
		s = "0" + s
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}

func levelsEqual(got []Level, want [][2]string) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d levels; want %d", len(got), len(want))
	}
	for i := range got {
		if !decimalEq(got[i].Price.String(), want[i][0]) || !decimalEq(got[i].Size.String(), want[i][1]) {
			return fmt.Errorf("level %d: got %v; want %v", i, got[i], want[i])
		}
	}
	return nil
}

// quiesce pauses the simulator and waits until every book of the engine
// caught up with what the simulator sent (same u), so states can be
// compared.
func (h *harness) quiesce(cat string, depth int) {
	h.t.Helper()
	h.sim.Pause()
	waitFor(h.t, 30*time.Second, "engine books to catch up with the simulator", func() bool {
		for _, s := range h.e.cfg.Symbols {
			want, err := h.sim.Book(cat, s, depth)
			if err != nil {
				return false
			}
			var got BookView
			if h.get(fmt.Sprintf("/v1/book/%s?stream=%d", s, depth), &got) != http.StatusOK || got.Stale || got.U != want.U {
				return false
			}
		}
		return true
	})
}

func (h *harness) compareBooks(cat string, depth int) {
	h.t.Helper()
	for _, s := range h.e.cfg.Symbols {
		want, err := h.sim.Book(cat, s, depth)
		if err != nil {
			h.t.Fatalf("sim.Book(%s): %v", s, err)
		}
		var got BookView
		if code := h.get(fmt.Sprintf("/v1/book/%s?stream=%d", s, depth), &got); code != http.StatusOK {
			h.t.Fatalf("/v1/book/%s: status %d", s, code)
		}
		if len(want.Bids) == 0 || len(want.Asks) == 0 {
			h.t.Fatalf("%s: the simulator sent an empty side; nothing to compare", s)
		}
		if got.U != want.U || got.Seq != want.Seq || got.TS != want.TS {
			h.t.Errorf("%s: got u=%d seq=%d ts=%d; want u=%d seq=%d ts=%d", s, got.U, got.Seq, got.TS, want.U, want.Seq, want.TS)
		}
		if err := levelsEqual(got.Bids, want.Bids); err != nil {
			h.t.Errorf("%s bids: %v", s, err)
		}
		if err := levelsEqual(got.Asks, want.Asks); err != nil {
			h.t.Errorf("%s asks: %v", s, err)
		}
	}
}

// converge waits (bounded by d) until diff reports no difference, and
// fails the test with the last difference if it does not.
func (h *harness) converge(d time.Duration, what string, diff func() error) {
	h.t.Helper()
	var err error
	deadline := time.Now().Add(d)
	for err = diff(); err != nil; err = diff() {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: still differ after %v: %v", what, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) compareTickers(cat string) {
	h.t.Helper()
	if err := h.tickersDiff(cat); err != nil {
		h.t.Error(err)
	}
}

// settleKlines steps the paused simulator until every kline stream of
// interval has sent the market's open candle. Until then the engine has no
// single right answer: a candle can open between the stream's pushes, REST
// then serves it, and an engine that filled from REST rightly holds a
// candle the stream never sent.
func (h *harness) settleKlines(cat, interval string) {
	h.t.Helper()
	for range 5000 {
		settled := true
		for _, s := range h.e.cfg.Symbols {
			sent, series := h.klineViews(cat, s, interval)
			settled = settled && len(sent) > 0 && sent[len(sent)-1].Start == series[len(series)-1].Start
		}
		if settled {
			return
		}
		h.sim.Step(1)
	}
	h.t.Fatalf("kline.%s: the simulator's streams did not send their open candles in 5000 steps", interval)
}

// klineViews returns the simulator's candles for one symbol: those the
// stream sent and the market's series.
func (h *harness) klineViews(cat, sym, interval string) (sent, series []bybitsim.KlineRow) {
	h.t.Helper()
	sent, err := h.sim.Kline(cat, sym, interval)
	if err != nil {
		h.t.Fatalf("sim.Kline(%s): %v", sym, err)
	}
	series, err = h.sim.KlineSeries(cat, sym, interval)
	if err != nil {
		h.t.Fatalf("sim.KlineSeries(%s): %v", sym, err)
	}
	return sent, series
}

// klinesDiff compares the engine's kline windows with the market's closed
// candles and the open candle as the stream last sent it (call
// settleKlines first), and describes the first difference. Candles are
// aligned from the newest: the engine holds the last KlineWindow of them.
func (h *harness) klinesDiff(cat, interval string) error {
	h.t.Helper()
	for _, s := range h.e.cfg.Symbols {
		sent, rows := h.klineViews(cat, s, interval)
		if len(sent) == 0 || sent[len(sent)-1].Start != rows[len(rows)-1].Start {
			return fmt.Errorf("%s: the stream has not sent the open candle (settleKlines)", s)
		}
		rows[len(rows)-1] = sent[len(sent)-1]
		var got KlinesView
		if code := h.get(fmt.Sprintf("/v1/klines/%s/%s", s, interval), &got); code != http.StatusOK {
			return fmt.Errorf("/v1/klines/%s: status %d", s, code)
		}
		if len(got.Klines) == 0 {
			return fmt.Errorf("%s: no candles", s)
		}
		n := min(len(got.Klines), len(rows))
		gk, wk := got.Klines[len(got.Klines)-n:], rows[len(rows)-n:]
		for i := range n {
			g, w := gk[i], wk[i]
			if g.Start != w.Start || !decimalEq(g.Open.String(), w.Open) || !decimalEq(g.High.String(), w.High) || !decimalEq(g.Low.String(), w.Low) ||
				!decimalEq(g.Close.String(), w.Close) || !decimalEq(g.Volume.String(), w.Volume) || !decimalEq(g.Turnover.String(), w.Turnover) || g.Confirm != w.Confirm {
				return fmt.Errorf("%s candle %d of the newest %d: got %+v; want %+v", s, i, n, g, w)
			}
		}
	}
	return nil
}

// tickersDiff compares the engine's tickers with the simulator's and
// describes the first difference.
func (h *harness) tickersDiff(cat string) error {
	h.t.Helper()
	for _, s := range h.e.cfg.Symbols {
		want, err := h.sim.Ticker(cat, s)
		if err != nil {
			return fmt.Errorf("sim.Ticker(%s): %v", s, err)
		}
		var got TickerView
		if code := h.get("/v1/ticker/"+s, &got); code != http.StatusOK {
			return fmt.Errorf("/v1/ticker/%s: status %d", s, code)
		}
		if got.Stale {
			return fmt.Errorf("%s: ticker stale", s)
		}
		for k, w := range want {
			if k == "symbol" || k == "tickDirection" || k == "deliveryTime" || k == "curPreListingPhase" {
				continue
			}
			g, ok := got.Fields[k]
			if !ok {
				return fmt.Errorf("%s: ticker field %s missing (sim %q)", s, k, w)
			}
			if g.String() != w && !decimalEq(g.String(), w) {
				return fmt.Errorf("%s: ticker %s: got %q; want %q", s, k, g, w)
			}
		}
	}
	return nil
}

func TestEngineMatchesSimulator(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 7, TimeScale: 60},
		// Without kline history the window holds only what the stream
		// sent (TestKlineWindowFilledFromREST covers the REST fill).
		Config{Topics: []string{"orderbook.50", "kline.1", "tickers", "publicTrade"}, NoKlineHistory: true})
	waitFor(t, 15*time.Second, "healthy engine", func() bool { return h.get("/healthz", nil) == http.StatusOK })
	// Let a few seconds of mixed traffic through.
	waitFor(t, 20*time.Second, "1500 messages", func() bool { return h.e.Stats().Messages > 1500 })
	h.quiesce("linear", 50)
	h.compareBooks("linear", 50)
	// Klines and tickers share the books' connections, but a message sent
	// after the last book delta may still be on its way.
	h.settleKlines("linear", "1")
	h.converge(15*time.Second, "klines", func() error { return h.klinesDiff("linear", "1") })
	h.converge(15*time.Second, "tickers", func() error { return h.tickersDiff("linear") })

	var tr TradesView
	if code := h.get("/v1/trades/BTCUSDT?limit=5", &tr); code != http.StatusOK || len(tr.Trades) == 0 {
		t.Errorf("/v1/trades: status %d, %d trades", code, len(tr.Trades))
	}
	st := h.e.Stats()
	t.Logf("stats: %s", st)
	if st.RingDrops != 0 {
		t.Errorf("ring drops: got %d; want 0 on an idle machine's loopback feed", st.RingDrops)
	}
}

func TestAdminBadRequests(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 1}, Config{Topics: []string{"orderbook.50", "tickers"}, Symbols: []string{"BTCUSDT"}})
	cases := []struct {
		path string
		code int
	}{
		{"/v1/book/NOPE", http.StatusNotFound},
		{"/v1/book/BTCUSDT?depth=abc", http.StatusBadRequest},
		{"/v1/book/BTCUSDT?depth=0", http.StatusBadRequest},
		{"/v1/book/BTCUSDT?depth=100000", http.StatusBadRequest},
		{"/v1/book/BTCUSDT?stream=200", http.StatusNotFound},
		{"/v1/klines/BTCUSDT/7", http.StatusBadRequest},
		{"/v1/klines/BTCUSDT/1", http.StatusNotFound},
		{"/v1/ticker/" + strings.Repeat("X", 40), http.StatusNotFound},
		{"/v1/trades/BTCUSDT", http.StatusNotFound},
		{"/v1/trades/BTCUSDT?limit=-1", http.StatusBadRequest},
		{"/v1/book/BTCUSDT?depth=5", http.StatusOK},
		{"/metrics", http.StatusOK},
	}
	for _, c := range cases {
		var v map[string]any
		var got int
		if strings.HasPrefix(c.path, "/metrics") {
			got = h.get(c.path, nil)
		} else {
			got = h.get(c.path, &v)
		}
		if got != c.code {
			t.Errorf("GET %s: got %d; want %d (%v)", c.path, got, c.code, v)
		}
		if c.code >= 400 && v["error"] == nil {
			t.Errorf("GET %s: no JSON error field in %v", c.path, v)
		}
	}
}

func sameJSON(a, b any) error {
	x, err := json.Marshal(a)
	if err != nil {
		return err
	}
	y, err := json.Marshal(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(x, y) {
		return fmt.Errorf("got %.300s; want %.300s", y, x)
	}
	return nil
}
