package ringfeed

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// Capture → replay gives the same final state as the live run, and a
// shutdown under load loses nothing already received.
func TestCaptureReplayMatchesLive(t *testing.T) {
	capture := filepath.Join(t.TempDir(), "live.cap")
	rate, _ := bybitsim.ParseRate("2000")
	h := startHarness(t, bybitsim.Config{Seed: 11, Rate: rate, TimeScale: 30},
		Config{Symbols: []string{"BTCUSDT", "ETHUSDT", "XRPUSDT"}, Topics: []string{"orderbook.50", "kline.1", "tickers", "publicTrade"}, Record: capture,
			NoKlineHistory: true}) // a replay has no REST history to match
	waitFor(t, 15*time.Second, "3000 messages", func() bool { return h.e.Stats().Messages > 3000 })
	// Stop under load: Run must apply everything its readers received
	// before it returns, and flush the capture.
	h.stop()
	live := h.e.Dump(context.Background())
	if h.e.Stats().RingDrops != 0 {
		t.Skip("the live run dropped events on a loaded machine; the states cannot be compared")
	}

	f, err := os.Open(capture)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := ReadCapture(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 3000 {
		t.Fatalf("capture holds %d frames; want ≥ 3000", len(frames))
	}
	res, err := Replay(context.Background(), Config{Category: Linear, Symbols: h.e.cfg.Symbols, Topics: h.e.cfg.Topics, Logger: quietLogger()}, frames, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.ParseErrors != 0 {
		t.Errorf("replay parse errors: %d", res.ParseErrors)
	}
	if len(res.Dump.Books) != len(live.Books) || len(live.Books) != 3 {
		t.Fatalf("books: replay %d, live %d; want 3", len(res.Dump.Books), len(live.Books))
	}
	for i := range live.Books {
		l, r := live.Books[i], res.Dump.Books[i]
		if l.U != r.U || l.Stale != r.Stale || levelsEqual(l.Bids, r.Bids) != nil || levelsEqual(l.Asks, r.Asks) != nil {
			t.Errorf("%s: live u=%d stale=%v %d/%d levels; replay u=%d stale=%v %d/%d levels",
				l.Symbol, l.U, l.Stale, len(l.Bids), len(l.Asks), r.U, r.Stale, len(r.Bids), len(r.Asks))
		}
	}
	for i := range live.Klines {
		if err := sameJSON(live.Klines[i], res.Dump.Klines[i]); err != nil {
			t.Errorf("klines %s: %v", live.Klines[i].Symbol, err)
		}
	}
	for i := range live.Tickers {
		if err := sameJSON(live.Tickers[i], res.Dump.Tickers[i]); err != nil {
			t.Errorf("ticker %s: %v", live.Tickers[i].Symbol, err)
		}
	}

	// The same frames as plain NDJSON (what other tools record) replay to
	// the same state.
	var nd bytes.Buffer
	for _, fr := range frames {
		nd.Write(fr.Data)
		nd.WriteByte('\n')
	}
	frames2, err := ReadCapture(&nd)
	if err != nil || len(frames2) != len(frames) {
		t.Fatalf("NDJSON: %d frames, %v; want %d", len(frames2), err, len(frames))
	}
	res2, err := Replay(context.Background(), Config{Category: Linear, Logger: quietLogger()}, frames2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameJSON(res.Dump, res2.Dump); err != nil {
		t.Errorf("NDJSON replay with discovered symbols differs: %v", err)
	}
}

func readCaptureFile(t *testing.T, path string) []Frame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames, err := ReadCapture(f)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}
