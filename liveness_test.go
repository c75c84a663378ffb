package ringfeed

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/session"
)

// healthz fetches /healthz.
func (h *harness) healthz() (int, Health) {
	h.t.Helper()
	var v Health
	code := h.get("/healthz", &v)
	return code, v
}

// A topic that goes quiet while its connection carries on, and whose
// resubscribes bring nothing (the simulator's mute: acks, but no snapshot),
// is stale in /v1/* and named by /healthz (503) for as long as it stays
// quiet, however many silence resubscribes pass; when it talks again it is
// live and /healthz answers 200. The other symbol is untouched.
func TestSilentStreamsGoStale(t *testing.T) {
	cfg := Config{
		Symbols: []string{"BTCUSDT", "ETHUSDT"},
		Topics:  []string{"orderbook.1", "tickers", "kline.1"},
		Session: session.Config{Silence: func(string) time.Duration { return 2 * time.Second }},
	}
	h := startHarness(t, bybitsim.Config{Seed: 31}, cfg)
	waitFor(t, 20*time.Second, "a healthy engine", func() bool { c, _ := h.healthz(); return c == http.StatusOK })

	muted := []string{"orderbook.1.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT"}
	for _, topic := range muted {
		if err := h.sim.Mute("linear", topic, -1); err != nil {
			t.Fatal(err)
		}
	}
	var book BookView
	var ticker TickerView
	var klines KlinesView
	allStale := func() bool {
		h.get("/v1/book/BTCUSDT", &book)
		h.get("/v1/ticker/BTCUSDT", &ticker)
		h.get("/v1/klines/BTCUSDT/1", &klines)
		return book.Stale && ticker.Stale && klines.Stale
	}
	named := func(v Health) bool {
		for _, topic := range muted {
			if !slices.Contains(v.Stale, topic) || !slices.Contains(v.Silent, topic) {
				return false
			}
		}
		return !v.OK
	}
	waitFor(t, 20*time.Second, "the muted streams stale", allStale)
	if book.Reason != "silent" {
		t.Errorf("book stale reason: got %q; want silent", book.Reason)
	}
	code, v := h.healthz()
	if code != http.StatusServiceUnavailable || !named(v) {
		t.Fatalf("/healthz with muted topics: got %d %+v; want 503 naming %v as stale and silent", code, v, muted)
	}

	// Every further silence resubscribe brings no data: still stale.
	sess := h.e.conns[0].sess
	before := sess.Stats().Silences
	waitFor(t, 20*time.Second, "two more rounds of silence resubscribes", func() bool {
		return sess.Stats().Silences >= before+2*int64(len(muted))
	})
	if !allStale() {
		t.Errorf("after more silence resubscribes: stale book %v, ticker %v, klines %v; want all stale", book.Stale, ticker.Stale, klines.Stale)
	}
	if code, v := h.healthz(); code != http.StatusServiceUnavailable || !named(v) {
		t.Errorf("/healthz after more resubscribes: got %d %+v; want 503 naming %v", code, v, muted)
	}
	for _, topic := range v.Stale {
		if strings.HasSuffix(topic, ".ETHUSDT") {
			t.Errorf("/healthz names %s stale; the ETHUSDT streams were never muted", topic)
		}
	}

	for _, topic := range muted {
		if err := h.sim.Mute("linear", topic, 0); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "live again", func() bool {
		c, _ := h.healthz()
		return c == http.StatusOK
	})
	waitFor(t, 5*time.Second, "/v1 views live", func() bool {
		h.get("/v1/book/BTCUSDT", &book)
		h.get("/v1/ticker/BTCUSDT", &ticker)
		h.get("/v1/klines/BTCUSDT/1", &klines)
		return !book.Stale && !ticker.Stale && !klines.Stale
	})
}

// /healthz answers 503 while a subscribed topic is refused by the exchange
// (subscribe answered success:false, retried with backoff), naming it,
// even with every connection up and every book live.
func TestHealthzNamesRefusedTopics(t *testing.T) {
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 32})
	if err != nil {
		t.Fatal(err)
	}
	refused := []string{"tickers.BTCUSDT", "publicTrade.BTCUSDT"}
	for _, topic := range refused {
		if err := sim.RejectTopic("linear", topic, 1_000_000); err != nil {
			t.Fatal(err)
		}
	}
	h := startHarnessOn(t, sim, Config{
		Symbols: []string{"BTCUSDT", "ETHUSDT"},
		Topics:  []string{"orderbook.50", "tickers", "publicTrade"},
		Session: session.Config{BackoffCap: time.Second},
	})
	sess := h.e.conns[0].sess
	// Bybit rejects a request as a whole: the refused topics' batch-mates
	// come back on their own retries.
	waitFor(t, 20*time.Second, "books live, the other topics acked, the refused ones failed twice", func() bool {
		var a, b BookView
		h.get("/v1/book/BTCUSDT", &a)
		h.get("/v1/book/ETHUSDT", &b)
		for i := range sess.NumTopics() {
			if !slices.Contains(refused, sess.Topic(i)) && !sess.TopicState(i).Subscribed {
				return false
			}
		}
		return !a.Stale && !b.Stale && sess.Stats().SubscribeFailures >= 2*int64(len(refused))
	})
	code, v := h.healthz()
	if code != http.StatusServiceUnavailable || v.OK {
		t.Fatalf("/healthz with refused topics: got %d %+v; want 503", code, v)
	}
	slices.Sort(v.Unsubscribed)
	if want := []string{"publicTrade.BTCUSDT", "tickers.BTCUSDT"}; !slices.Equal(v.Unsubscribed, want) {
		t.Errorf("unsubscribed: got %v; want %v", v.Unsubscribed, want)
	}
	if v.Connected != 1 || v.Conns != 1 || len(v.StaleBooks) != 0 {
		t.Errorf("got %d/%d connected, stale books %v; want 1/1, none", v.Connected, v.Conns, v.StaleBooks)
	}
}
