package ringfeed

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// With kline history (the default) the window is full of REST history at start, so a
// strategy sees a whole window at once, and the stream then updates the
// newest candle in place.
func TestKlineWindowFilledFromREST(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 9, TimeScale: 60},
		Config{Symbols: []string{"BTCUSDT"}, Topics: []string{"kline.1"}, KlineWindow: 200})
	var got KlinesView
	waitFor(t, 15*time.Second, "a full kline window", func() bool {
		return h.get("/v1/klines/BTCUSDT/1", &got) == http.StatusOK && len(got.Klines) == 200
	})
	if got.Gaps != 0 {
		t.Errorf("gaps after the fill: got %d; want 0", got.Gaps)
	}
	for i := 1; i < len(got.Klines); i++ {
		if got.Klines[i].Start != got.Klines[i-1].Start+60_000 {
			t.Fatalf("candle %d starts at %d, previous at %d: not consecutive minutes", i, got.Klines[i].Start, got.Klines[i-1].Start)
		}
		if i < len(got.Klines)-2 && !got.Klines[i].Confirm {
			t.Errorf("history candle %d not confirmed", i)
		}
	}
	h.sim.Pause()
	h.settleKlines("linear", "1")
	h.converge(15*time.Second, "klines", func() error { return h.klinesDiff("linear", "1") })
}

func TestUnlistedSymbolIsAConfigError(t *testing.T) {
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	e, err := New(Config{Category: Linear, Symbols: []string{"BTCUSDT", "NOPEUSDT"}, Topics: []string{"orderbook.50"},
		WSURL: sim.URL("linear"), RESTURL: sim.RESTURL(), Admin: "off", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Run(t.Context())
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "Symbols" || !strings.Contains(err.Error(), "NOPEUSDT") {
		t.Fatalf("got %v; want a Symbols error naming NOPEUSDT", err)
	}
}

func TestInstrumentScales(t *testing.T) {
	in := []bybitsim.Instrument{{Category: "spot", Symbol: "PEPEUSDT", Price: "0.0000123456", TickSize: "0.0000000001", QtyStep: "1", Size: "1000000"}}
	h := startHarness(t, bybitsim.Config{Seed: 2, Instruments: in}, Config{Category: Spot, Topics: []string{"orderbook.50"}})
	waitFor(t, 10*time.Second, "a live PEPEUSDT book", func() bool { return h.get("/healthz", nil) == http.StatusOK })
	id, _ := h.e.syms.Lookup([]byte("PEPEUSDT"))
	if ps, _ := h.e.syms.Scales(id); ps != 10 {
		t.Errorf("price scale: got %d; want 10 from the tick size", ps)
	}
	h.quiesce("spot", 50)
	h.compareBooks("spot", 50)
}
