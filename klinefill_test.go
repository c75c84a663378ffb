package ringfeed

import (
	"net/http"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// With KlineHistory the window is full of REST history at start, so a
// strategy sees a whole window at once, and the stream then updates the
// newest candle in place.
func TestKlineWindowFilledFromREST(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 9, TimeScale: 60},
		Config{Symbols: []string{"BTCUSDT"}, Topics: []string{"kline.1"}, KlineHistory: true, KlineWindow: 200})
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
	time.Sleep(200 * time.Millisecond)
	h.compareKlines("linear", "1")
}
