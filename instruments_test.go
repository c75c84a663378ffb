package ringfeed

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// A low-priced spot coin traded in huge quantities: at a floor of 8 size
// decimals its volume24h and kline volumes overflow an int64, so the
// ticker was rejected whole and the kline never filled. With the
// instrument's own scales (basePrecision 0.01) every stream fills and
// matches the simulator (issue 14 item 6).
func TestLowPricedCoinUsesOwnScales(t *testing.T) {
	in := []bybitsim.Instrument{{Category: "spot", Symbol: "PEPEUSDT", Price: "0.0000123456", TickSize: "0.0000000001", QtyStep: "0.01", Size: "2000000000.00"}}
	h := startHarness(t, bybitsim.Config{Seed: 31, Instruments: in}, Config{Category: Spot, Topics: []string{"tickers", "kline.1", "orderbook.50"}})
	id, _ := h.e.syms.Lookup([]byte("PEPEUSDT"))
	if ps, ss := h.e.syms.Scales(id); ps != 10 || ss != 2 {
		t.Errorf("scales: got price %d size %d; want 10 and 2 from tickSize and basePrecision", ps, ss)
	}
	// Wait until volume24h is past what 8 decimals can hold (9.2e10).
	waitFor(t, 20*time.Second, "volume24h above 1e11", func() bool {
		tk, err := h.sim.Ticker("spot", "PEPEUSDT")
		if err != nil {
			return false
		}
		v, _ := strconv.ParseFloat(tk["volume24h"], 64)
		return v > 1e11
	})
	h.sim.Pause()
	waitFor(t, 15*time.Second, "the engine's ticker to match the simulator", func() bool {
		want, _ := h.sim.Ticker("spot", "PEPEUSDT")
		got, err := h.e.Ticker(context.Background(), "PEPEUSDT")
		return err == nil && !got.Stale && decimalEq(got.Fields["volume24h"].String(), want["volume24h"]) && decimalEq(got.Fields["lastPrice"].String(), want["lastPrice"])
	})
	h.compareTickers("spot")
	h.quiesce("spot", 50)
	h.compareBooks("spot", 50)
	var kv KlinesView
	if code := h.get("/v1/klines/PEPEUSDT/1", &kv); code != http.StatusOK || len(kv.Klines) == 0 {
		t.Fatalf("/v1/klines/PEPEUSDT/1: status %d, %d candles; want candles", code, len(kv.Klines))
	}
	if got := h.e.unfitFields.Get(); got != 0 {
		t.Errorf("unrepresentable ticker fields: got %d; want 0", got)
	}
}

// A 24 h statistic that still cannot be represented (a turnover beyond
// 9.2e10 at 8 decimals) is counted and left absent; the rest of the
// message is applied and the ticker stays live. (The simulator keeps its
// own statistics in int64 at the same scales, so it cannot print such a
// value: the frames go through the real parser, sink and processor.)
func TestUnrepresentableTickerFieldLeftAbsent(t *testing.T) {
	e, err := New(Config{Category: Spot, Symbols: []string{"AAAUSDT"}, Topics: []string{"tickers"}, Admin: "off", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	apply := directFeed(t, e)
	feed := func(frame string) {
		t.Helper()
		if err := apply(frame); err != nil {
			t.Fatalf("Parse: %v", err)
		}
	}
	feed(`{"topic":"tickers.AAAUSDT","type":"snapshot","ts":1,"cs":1,"data":{"symbol":"AAAUSDT","lastPrice":"10.5","turnover24h":"1000.25","volume24h":"95.5"}}`)
	feed(`{"topic":"tickers.AAAUSDT","type":"snapshot","ts":2,"cs":2,"data":{"symbol":"AAAUSDT","lastPrice":"10.6","turnover24h":"123456789012.5","volume24h":"96.5"}}`)
	v, err := e.Ticker(context.Background(), "AAAUSDT")
	if err != nil {
		t.Fatal(err)
	}
	if _, has := v.Fields["turnover24h"]; has || v.Stale || v.Fields["lastPrice"].String() != "10.6" || v.Fields["volume24h"].String() != "96.5" {
		t.Errorf("got %+v; want live, lastPrice 10.6, volume24h 96.5, no turnover24h", v)
	}
	if got := e.unfitFields.Get(); got != 1 {
		t.Errorf("ringfeed_ticker_fields_unrepresentable_total: got %d; want 1", got)
	}
}
