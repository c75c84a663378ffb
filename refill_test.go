package ringfeed

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// stallOnce returns a hook body that sleeps d the first time it runs and
// a flag that says whether it has; the test's stand-in for a user hook
// that hangs, which fills the ring and makes the reader drop messages.
func stallOnce(d time.Duration) (func(), *atomic.Bool) {
	var started atomic.Bool
	return func() {
		if started.CompareAndSwap(false, true) {
			time.Sleep(d)
		}
	}, &started
}

// startStalled starts a harness with a 64-slot ring whose first trade
// hook sleeps d (stallOnce), so the reader drops messages, and waits until
// the stall has begun.
func startStalled(t *testing.T, d time.Duration, simCfg bybitsim.Config, cfg Config) *harness {
	t.Helper()
	stall, started := stallOnce(d)
	cfg.RingSize, cfg.RingFullWait = 64, time.Millisecond
	h := startHarness(t, simCfg, cfg, func(e *Engine) {
		e.OnTrade(func(TradeRef) { stall() })
	})
	waitFor(t, 15*time.Second, "the stall to start", started.Load)
	return h
}

// tapeIDs returns the ids of a symbol's tape, newest first.
func (h *harness) tapeIDs(sym string) []string {
	h.t.Helper()
	v, err := h.e.Trades(context.Background(), sym, 0)
	if err != nil {
		h.t.Fatalf("Trades(%s): %v", sym, err)
	}
	out := make([]string, len(v.Trades))
	for i, tr := range v.Trades {
		out[i] = tr.ID
	}
	return out
}

// tapeMatches reports whether the newest n trades of the engine's tape are
// the newest n trades the simulator sent, in order; it describes the first
// difference.
func (h *harness) tapeMatches(cat, sym string, n int) (bool, string) {
	stream := sym
	if cat == "option" {
		stream = baseCoin(sym) // publicTrade.{BASE} carries every option of the coin
	}
	all, err := h.sim.Trades(cat, stream)
	if err != nil {
		h.t.Fatalf("sim.Trades(%s): %v", stream, err)
	}
	var sent []bybitsim.Trade
	for _, tr := range all {
		if tr.Symbol == sym {
			sent = append(sent, tr)
		}
	}
	got := h.tapeIDs(sym)
	n = min(n, len(sent))
	if len(got) < n {
		return false, fmt.Sprintf("%s: tape holds %d trades; want at least %d", sym, len(got), n)
	}
	for i := range n {
		if w := sent[len(sent)-1-i].ID; got[i] != w {
			return false, fmt.Sprintf("%s: trade %d from the newest: got %s; want %s", sym, i, got[i], w)
		}
	}
	return true, ""
}

// pauseUntilTapesMatch pauses the simulator and waits until the newest
// 1000 trades of every symbol's tape are the ones it sent (tapeMatches),
// logging the last difference when they never are.
func (h *harness) pauseUntilTapesMatch(cat string) {
	h.t.Helper()
	h.sim.Pause()
	var why string
	defer func() {
		if h.t.Failed() {
			h.t.Logf("last difference: %s", why)
		}
	}()
	waitFor(h.t, 20*time.Second, "tapes equal to the trades sent", func() bool {
		for _, s := range h.e.cfg.Symbols {
			ok, w := h.tapeMatches(cat, s, 1000)
			if !ok {
				why = w
				return false
			}
		}
		return true
	})
}

// Trades lost in ring-full drops come back from GET
// /v5/market/recent-trade: after a stalled hook overflowed the ring, each
// tape holds exactly the trades the simulator sent, newest first, none
// twice, and the closed candles the drops hit are right again (issue 14
// item 5).
func TestTradesRefilledAfterRingDrops(t *testing.T) {
	rate, _ := bybitsim.ParseRate("600")
	h := startStalled(t, 1500*time.Millisecond, bybitsim.Config{Seed: 5, Rate: rate, TimeScale: 60}, Config{
		Symbols:   []string{"BTCUSDT", "ETHUSDT", "XRPUSDT"},
		Topics:    []string{"publicTrade", "kline.1"},
		TradeTape: 1000,
	})
	waitFor(t, 20*time.Second, "trade messages dropped", func() bool { return h.e.m.tradesLost.Get() > 0 })
	// Let the stream carry on for a while: refills and the stream's
	// own trades interleave.
	m0 := h.e.Stats().Messages
	waitFor(t, 20*time.Second, "300 more messages", func() bool { return h.e.Stats().Messages > m0+300 })
	h.pauseUntilTapesMatch("linear")
	if got := h.e.refill.m.tradesRefilled.Get(); got == 0 {
		t.Errorf("trades refilled: got 0; want > 0")
	}
	if got := h.e.refill.m.tradeGaps.Get(); got != 0 {
		t.Errorf("unrecovered trade gaps: got %d; want 0 (the loss is within REST's 1000)", got)
	}
	// The simulator repeated no trade: stream trades a refill taped first
	// are overlaps, not exchange repeats.
	if got := h.e.m.tradeDups.Get(); got != 0 {
		t.Errorf("trades_duplicate_total: got %d; want 0 (overlaps: %d)", got, h.e.refill.m.tradeOverlaps.Get())
	}
	// Every closed candle the stream sent is in the window as sent.
	for _, s := range h.e.cfg.Symbols {
		rows, err := h.sim.Kline("linear", s, "1")
		if err != nil {
			t.Fatal(err)
		}
		kv, err := h.e.Klines(context.Background(), s, "1", 0)
		if err != nil {
			t.Fatal(err)
		}
		byStart := map[int64]CandleView{}
		for _, c := range kv.Klines {
			byStart[c.Start] = c
		}
		for _, w := range rows {
			if !w.Confirm {
				continue
			}
			g, ok := byStart[w.Start]
			if !ok || !g.Confirm || !decimalEq(g.Close.String(), w.Close) || !decimalEq(g.Volume.String(), w.Volume) || !decimalEq(g.High.String(), w.High) {
				t.Errorf("%s closed candle %d: got %+v (held %v); want %+v", s, w.Start, g, ok, w)
			}
		}
	}
	t.Logf("stats: %s; refilled %d trades in %d refills, %d overlaps", h.e.Stats(), h.e.refill.m.tradesRefilled.Get(), h.e.refill.m.tradeRefills.Get(), h.e.refill.m.tradeOverlaps.Get())
}

// A loss longer than REST reaches (spot answers only the newest 60
// trades) is counted and the tape still gets the newest trades.
func TestTradeGapBeyondRESTCounted(t *testing.T) {
	rate, _ := bybitsim.ParseRate("1500")
	h := startStalled(t, 2*time.Second, bybitsim.Config{Seed: 6, Rate: rate}, Config{
		Category: Spot,
		Symbols:  []string{"BTCUSDT"},
		Topics:   []string{"publicTrade"},
	})
	waitFor(t, 30*time.Second, "an unrecovered gap counted", func() bool { return h.e.refill.m.tradeGaps.Get() > 0 })
	if got := h.e.refill.m.tradeGapSeconds.Get(); got == 0 {
		t.Errorf("unrecovered gap span: got 0 s; want > 0")
	}
	h.sim.Pause()
	waitFor(t, 20*time.Second, "the newest 60 trades on the tape", func() bool {
		ok, _ := h.tapeMatches("spot", "BTCUSDT", 60)
		return ok
	})
}

// After the reader ran out of drop markers (more streams lost data than it
// tracks one by one) the connection stays up, so no snapshot comes by
// itself: every book and ticker is resynced, tickers included (issue 14
// item 2).
func TestMarkerOverflowResyncsTickers(t *testing.T) {
	ins := bybitsim.SyntheticInstruments("linear", 100)
	rate, _ := bybitsim.ParseRate("4000")
	var once atomic.Bool
	release := make(chan struct{})
	h := startHarness(t, bybitsim.Config{Seed: 7, Rate: rate, Instruments: ins}, Config{
		Topics:         []string{"tickers", "orderbook.1", "publicTrade"},
		SymbolsPerConn: 100,
		RingSize:       1024,
		RingFullWait:   time.Millisecond,
	}, func(e *Engine) {
		e.OnTicker(func(TickerRef) {
			if once.CompareAndSwap(false, true) {
				select { // the stall, until the test has seen the ring overflow
				case <-release:
				case <-time.After(time.Minute):
				}
			}
		})
	})
	waitFor(t, 15*time.Second, "the stall to start", once.Load)
	// 300 streams (100 symbols × 3 topics) at ~13 messages a second each:
	// 4000 dropped messages touch far more than the 256 streams the
	// reader keeps markers for, so it falls back to a connection reset.
	// Counted on the feed, not timed, so a busy machine only makes it slower.
	waitFor(t, 30*time.Second, "4000 messages dropped on the full ring", func() bool {
		return h.e.Stats().RingDrops >= 4000
	})
	close(release)
	// The reset marker the overflow queued marks every book stale (reason
	// resync) once the processor reaches it.
	waitFor(t, 20*time.Second, "the reader's marker overflow applied", func() bool {
		return h.e.m.staleBy(book.ReasonResync).Get() > 0
	})
	var stale []string
	defer func() {
		if t.Failed() {
			t.Logf("stale tickers %d %v; session %+v; engine %s", len(stale), stale[:min(5, len(stale))], h.e.conns[0].sess.Stats(), h.e.Stats())
		}
	}()
	waitFor(t, 30*time.Second, "every ticker live again", func() bool {
		stale = stale[:0]
		h.e.query(context.Background(), h.e.conns[0].proc, func() {
			for _, st := range h.e.conns[0].syms {
				if st.ticker.stale {
					stale = append(stale, st.name)
				}
			}
		})
		return len(stale) == 0
	})
	if h.e.Stats().Reconnects != 0 {
		t.Errorf("reconnects: got %d; want 0", h.e.Stats().Reconnects)
	}

}

// Options share one trade stream per base coin (publicTrade.BTC): a drop
// marker names one option, but every option of the coin is refilled.
func TestOptionTradesRefilledAfterRingDrops(t *testing.T) {
	rate, _ := bybitsim.ParseRate("400")
	h := startStalled(t, 1500*time.Millisecond, bybitsim.Config{Seed: 8, Rate: rate}, Config{
		Category: Option,
		Topics:   []string{"publicTrade"},
	})
	waitFor(t, 20*time.Second, "trade messages dropped", func() bool { return h.e.m.tradesLost.Get() > 0 })
	m0 := h.e.Stats().Messages
	waitFor(t, 20*time.Second, "100 more messages", func() bool { return h.e.Stats().Messages > m0+100 })
	h.pauseUntilTapesMatch("option")
	if got := h.e.refill.m.tradeGaps.Get(); got != 0 {
		t.Errorf("unrecovered trade gaps: got %d; want 0", got)
	}
}

// keepSubscribed opens a plain WebSocket client of the simulator on
// topics, reading and discarding, so their markets keep moving while the
// engine's connection is down; it closes with the test.
func keepSubscribed(t *testing.T, sim *bybitsim.Server, category string, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, sim.URL(category), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(-1)
	t.Cleanup(func() { conn.CloseNow() })
	req := `{"op":"subscribe","args":["` + strings.Join(topics, `","`) + `"]}`
	if err := conn.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	go func() {
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return
			}
		}
	}()
}

// Trades made while the connection was down (the markets kept moving for
// another client) are refilled after the reconnect (issue 14 item 5).
func TestTradesRefilledAfterReconnect(t *testing.T) {
	rate, _ := bybitsim.ParseRate("300")
	h := startHarness(t, bybitsim.Config{Seed: 9, Rate: rate}, Config{
		Symbols: []string{"BTCUSDT", "ETHUSDT"},
		Topics:  []string{"publicTrade"},
	})
	keepSubscribed(t, h.sim, "linear", "publicTrade.BTCUSDT", "publicTrade.ETHUSDT", "tickers.BTCUSDT")
	waitFor(t, 15*time.Second, "trades on both tapes", func() bool {
		return len(h.tapeIDs("BTCUSDT")) > 5 && len(h.tapeIDs("ETHUSDT")) > 5
	})
	var engineConn string
	for _, c := range h.sim.Conns() {
		if !slices.Contains(c.Topics, "tickers.BTCUSDT") {
			engineConn = c.ID
		}
	}
	// The next handshake waits 1.5 s: the outage spans many trades.
	if err := h.sim.DelayHandshakes(1, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.DropAfterMessages(engineConn, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "a reconnect", func() bool { return h.e.Stats().Reconnects > 0 })
	h.pauseUntilTapesMatch("linear")
	t.Logf("refilled %d trades in %d refills", h.e.refill.m.tradesRefilled.Get(), h.e.refill.m.tradeRefills.Get())
}
