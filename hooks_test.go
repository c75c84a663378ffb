package ringfeed

import (
	"sync"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/parse"
)

// TestHooksSeveralPerKind registers two hooks of each kind: both run for
// every update (neither replaces the other), and what they read through
// their refs matches the state API.
func TestHooksSeveralPerKind(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	var lastTrade TradeView
	count := func(k string) {
		mu.Lock()
		calls[k]++
		mu.Unlock()
	}
	h := startHarness(t, bybitsim.Config{Seed: 8, TimeScale: 60},
		Config{Topics: []string{"orderbook.1", "kline.1", "tickers", "publicTrade"}, Symbols: []string{"BTCUSDT"}},
		func(e *Engine) {
			for _, n := range []string{"a", "b"} {
				e.OnBook(func(b BookRef) {
					if bid, ok := b.BestBid(); ok && bid.Price.Sign() > 0 && b.Symbol() == "BTCUSDT" && b.Category() == Linear && b.Depth() == 1 {
						count("book " + n)
					}
				})
				e.OnKline(func(k KlineRef) {
					if c, ok := k.Newest(); ok && c.Close.Sign() > 0 && k.Interval() == "1" {
						count("kline " + n)
					}
				})
				e.OnTicker(func(tk TickerRef) {
					if v, ok := tk.Get(parse.TickLastPrice); ok && !v.Empty && v.Value.Sign() > 0 {
						count("ticker " + n)
					}
				})
				e.OnTrade(func(tr TradeRef) {
					count("trade " + n)
					mu.Lock()
					lastTrade = TradeView{Time: tr.Time(), Side: tr.Side().String(), Price: tr.Price(), Size: tr.Size(), ID: string(tr.ID()), Seq: tr.Seq()}
					mu.Unlock()
				})
			}
		})
	waitFor(t, 20*time.Second, "every hook to run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range []string{"book", "kline", "ticker", "trade"} {
			if calls[k+" a"] == 0 {
				return false
			}
		}
		return true
	})
	h.quiesce("linear", 1)
	// Once the paused feed is drained, the newest trade the API serves is
	// the one the hooks saw last.
	var got, seen TradeView
	waitFor(t, 10*time.Second, "the API's newest trade to be the hooks' last", func() bool {
		var tv TradesView
		if h.get("/v1/trades/BTCUSDT?limit=1", &tv) != 200 || len(tv.Trades) != 1 {
			return false
		}
		got = tv.Trades[0]
		mu.Lock()
		seen = lastTrade
		mu.Unlock()
		return got.Price.Equal(seen.Price) && got.Size.Equal(seen.Size) && got.ID == seen.ID && got.Time == seen.Time
	})
	mu.Lock()
	defer mu.Unlock()
	for _, k := range []string{"book", "kline", "ticker", "trade"} {
		if calls[k+" a"] != calls[k+" b"] {
			t.Errorf("%s hooks: first ran %d times, second %d; want the same", k, calls[k+" a"], calls[k+" b"])
		}
	}
}

func TestHookAfterRunPanics(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 1}, Config{Topics: []string{"orderbook.1"}, Symbols: []string{"BTCUSDT"}})
	defer func() {
		if recover() == nil {
			t.Error("OnBook after Run: no panic")
		}
	}()
	h.e.OnBook(func(BookRef) {})
}
