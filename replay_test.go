package ringfeed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/capture"
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
		// By value: the live run has each instrument's own scales from
		// instruments-info, a replay the default ones.
		if l.U != r.U || l.Stale != r.Stale || !slices.EqualFunc(l.Bids, r.Bids, levelEq) || !slices.EqualFunc(l.Asks, r.Asks, levelEq) {
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

// Bybit's historical depth-500 files replay (the live stream offers no
// depth 500), and topics the engine does not know are skipped and
// counted instead of aborting the replay (issue 14 item 8).
func TestReplayHistoricalDepthAndUnknownTopics(t *testing.T) {
	frames := []Frame{
		{Data: []byte(`{"topic":"orderbook.500.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"s":"BTCUSDT","b":[["65000.1","1.5"],["65000.0","2"]],"a":[["65000.2","0.5"]],"u":1,"seq":10},"cts":1700000000000}`)},
		{Data: []byte(`{"topic":"liquidation.BTCUSDT","type":"snapshot","ts":1700000000001,"data":{"price":"65000.1","side":"Buy","size":"0.1","symbol":"BTCUSDT","updatedTime":1700000000001}}`)},
		{Data: []byte(`{"topic":"orderbook.500.BTCUSDT","type":"delta","ts":1700000000002,"data":{"s":"BTCUSDT","b":[["65000.0","0"]],"a":[["65000.3","4"]],"u":2,"seq":11},"cts":1700000000002}`)},
		{Data: []byte(`{"topic":"allLiquidation.BTCUSDT","type":"snapshot","ts":1700000000003,"data":[]}`)},
		{Data: []byte(`{"topic":"liquidation.BTCUSDT","type":"snapshot","ts":1700000000004,"data":{}}`)},
	}
	for _, cfg := range []Config{
		{Category: Linear, Logger: quietLogger()},
		{Category: Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.500"}, Logger: quietLogger()},
	} {
		res, err := Replay(context.Background(), cfg, frames, 0)
		if err != nil {
			t.Fatalf("topics %v: %v", cfg.Topics, err)
		}
		if res.Frames != 5 || res.Stats.Messages != 2 || res.ParseErrors != 0 || res.Skipped != 3 {
			t.Errorf("topics %v: got frames=%d messages=%d parse_errors=%d skipped=%d; want 5, 2, 0, 3",
				cfg.Topics, res.Frames, res.Stats.Messages, res.ParseErrors, res.Skipped)
		}
		if want := []string{"liquidation.BTCUSDT", "allLiquidation.BTCUSDT"}; fmt.Sprint(res.UnknownTopics) != fmt.Sprint(want) {
			t.Errorf("unknown topics %v; want %v", res.UnknownTopics, want)
		}
		if len(res.Dump.Books) != 1 {
			t.Fatalf("got %d books; want 1", len(res.Dump.Books))
		}
		b := res.Dump.Books[0]
		if b.Depth != 500 || b.U != 2 || b.Stale || len(b.Bids) != 1 || len(b.Asks) != 2 || b.Bids[0].Price.String() != "65000.1" {
			t.Errorf("book: depth %d u %d stale %v bids %v asks %v", b.Depth, b.U, b.Stale, b.Bids, b.Asks)
		}
	}
	// The live engine still refuses a depth Bybit does not stream.
	if _, err := New(Config{Category: Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.500"}, Admin: "off", Logger: quietLogger()}); err == nil {
		t.Error("New accepted orderbook.500 for a live engine")
	}
}

// A recording rotated by size (and compressed) is a numbered series of
// files that ReplayFiles replays in order, each file whole.
func TestRecordRotatesAndReplaysInOrder(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "live.cap.zst")
	rate, _ := bybitsim.ParseRate("max")
	h := startHarness(t, bybitsim.Config{Seed: 5, Rate: rate},
		Config{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Topics: []string{"orderbook.50", "publicTrade"},
			Record: base, RecordRotateSize: 1 << 20})
	// Bounded wait until the third file exists: two were rotated out.
	waitFor(t, 30*time.Second, "a third capture file", func() bool {
		_, err := os.Stat(capture.Name(base, 3, true))
		return err == nil
	})
	h.stop()
	var paths []string
	for n := 1; ; n++ {
		p := capture.Name(base, n, true)
		if _, err := os.Stat(p); err != nil {
			break
		}
		paths = append(paths, p)
	}
	if len(paths) < 3 {
		t.Fatalf("got %d capture files; want ≥ 3", len(paths))
	}
	total := 0
	for _, p := range paths[:len(paths)-1] {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		frames, err := ReadCapture(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		total += len(frames)
	}
	if total == 0 {
		t.Fatal("the rotated files hold no frames")
	}
	res, err := ReplayFiles(context.Background(), Config{Category: Linear, Logger: quietLogger()}, paths, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.ParseErrors != 0 || len(res.Truncated) != 0 || res.Frames < total {
		t.Errorf("replay of %d files: %d frames (≥ %d in all but the last), %d parse errors, truncated %v",
			len(paths), res.Frames, total, res.ParseErrors, res.Truncated)
	}
}

// levelEq compares two levels by value, whatever their scales.
func levelEq(a, b Level) bool { return a.Price.Equal(b.Price) && a.Size.Equal(b.Size) }

// The reader's and the processor's lists of unknown topics merge into the
// first sightings in frame order, each topic once, at most
// maxUnknownTopics.
func TestMergeUnknown(t *testing.T) {
	u := func(frame int, topic string) unknownTopic { return unknownTopic{frame, topic} }
	var many []unknownTopic
	for i := range maxUnknownTopics {
		many = append(many, u(2*i, fmt.Sprint("t", i)))
	}
	for _, c := range []struct {
		a, b []unknownTopic
		want string
	}{
		{nil, nil, "[]"},
		{[]unknownTopic{u(5, "x")}, nil, "[x]"},
		{[]unknownTopic{u(5, "x"), u(9, "y")}, []unknownTopic{u(1, "y"), u(7, "z")}, "[y x z]"},
		{[]unknownTopic{u(3, "x")}, []unknownTopic{u(8, "x")}, "[x]"},
		{many, []unknownTopic{u(1, "early")}, fmt.Sprint(append([]string{"t0", "early"}, topicsOf(many[1:maxUnknownTopics-1])...))},
	} {
		var got []string
		for _, m := range mergeUnknown(c.a, c.b) {
			got = append(got, m.topic)
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("mergeUnknown(%v, %v) = %v; want %s", c.a, c.b, got, c.want)
		}
	}
}

func topicsOf(l []unknownTopic) []string {
	var out []string
	for _, u := range l {
		out = append(out, u.topic)
	}
	return out
}
