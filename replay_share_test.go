package ringfeed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/bench"
)

// A full-speed replay hands some frames to the processor unparsed when it
// runs short of parsed work (the reader and the processor share the
// parsing). Whichever side parses a frame, the replay must come out the
// same: the same final state, counts, skipped frames, parse errors with
// their drop markers, and unknown topics in the order they first
// appeared. The feed is a recorded replay-8 feed with bad frames mixed
// in; it is replayed with every frame that fits a slot handed over and
// with none, under two topic sets (one leaves tickers out, so the topic
// filter decides too).
func TestReplaySharedParsingAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("records a feed from the simulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	frames, err := bench.Generate(ctx, bench.Replay8, 5, 6_000)
	if err != nil {
		t.Fatal(err)
	}
	frames = withBadFrames(t, frames)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, topics := range [][]string{bench.TopicsReplay, {"orderbook.50", "publicTrade", "kline.1"}} {
		cfg := ringfeed.Config{Category: ringfeed.Linear, Symbols: bench.Replay8.SymbolNames(), Topics: topics, Logger: quiet}
		none, err := replayShared(ctx, cfg, frames, false)
		if err != nil {
			t.Fatal(err)
		}
		all, err := replayShared(ctx, cfg, frames, true)
		if err != nil {
			t.Fatal(err)
		}
		shared0, shared := ringfeed.SharedFrames(none), ringfeed.SharedFrames(all)
		if shared0 != 0 || shared < len(frames)*3/4 {
			t.Fatalf("%v: processor parsed %d and %d of %d frames; want 0 and most", topics, shared0, shared, len(frames))
		}
		if none.ParseErrors != 4 || none.Skipped == 0 || none.StaleBooks() == 0 {
			t.Fatalf("%v: unshared replay: %d parse errors, %d skipped, %d stale books; want 4, some, some (the bad frames)",
				topics, none.ParseErrors, none.Skipped, none.StaleBooks())
		}
		got := fmt.Sprintf("frames=%d messages=%d events=%d parse_errors=%d skipped=%d unknown=%v stale=%d",
			all.Frames, all.Stats.Messages, all.Stats.Events, all.ParseErrors, all.Skipped, all.UnknownTopics, all.StaleBooks())
		want := fmt.Sprintf("frames=%d messages=%d events=%d parse_errors=%d skipped=%d unknown=%v stale=%d",
			none.Frames, none.Stats.Messages, none.Stats.Events, none.ParseErrors, none.Skipped, none.UnknownTopics, none.StaleBooks())
		if got != want {
			t.Errorf("%v: shared parsing:\n got %s\nwant %s", topics, got, want)
		}
		a, _ := json.Marshal(all.Dump)
		b, _ := json.Marshal(none.Dump)
		if !bytes.Equal(a, b) {
			t.Errorf("%v: final state with shared parsing differs from the reader's alone", topics)
		}
	}
}

func replayShared(ctx context.Context, cfg ringfeed.Config, frames []ringfeed.Frame, all bool) (ringfeed.ReplayResult, error) {
	defer ringfeed.ShareFrames(all)()
	return ringfeed.Replay(ctx, cfg, frames, 0)
}

// withBadFrames mixes into frames what a real capture may hold besides
// good data: unknown topics (the first of them repeated later, so the
// merged list must keep first sightings in order), a symbol the replay
// does not name, a book delta and a trade batch with a bad number (parse
// errors with a drop marker for their stream), and a frame cut short.
func withBadFrames(t *testing.T, frames []ringfeed.Frame) []ringfeed.Frame {
	t.Helper()
	find := func(from int, prefix string, delta bool) int {
		for i := from; i < len(frames); i++ {
			if bytes.HasPrefix(frames[i].Data, []byte(prefix)) && bytes.Contains(frames[i].Data, []byte(`"delta"`)) == delta {
				return i
			}
		}
		t.Fatalf("no frame %q after %d", prefix, from)
		return -1
	}
	corrupt := func(i int, old, new string) ringfeed.Frame {
		d := bytes.Replace(frames[i].Data, []byte(old), []byte(new), 1)
		if bytes.Equal(d, frames[i].Data) {
			t.Fatalf("frame %d holds no %q: %s", i, old, frames[i].Data)
		}
		return ringfeed.Frame{RecvUnixNs: frames[i].RecvUnixNs, Data: d}
	}
	book := find(len(frames)/3, `{"topic":"orderbook.50.S0003USDT"`, true)
	trade := find(len(frames)/2, `{"topic":"publicTrade.S0005USDT"`, false)
	cut := find(2*len(frames)/3, `{"topic":"orderbook.50.S0001USDT"`, true)
	ins := map[int][]ringfeed.Frame{
		10:                {{Data: []byte(`{"topic":"liquidation.S0001USDT","type":"snapshot","ts":1,"data":{"price":"1"}}`)}},
		len(frames) / 4:   {{Data: []byte(`{"topic":"orderbook.50.ZZZUSDT","type":"delta","ts":1,"data":{"s":"ZZZUSDT","b":[],"a":[],"u":5,"seq":5}}`)}},
		book:              {corrupt(book, `"b":[["`, `"b":[["x`)},
		trade:             {corrupt(trade, `"p":"`, `"p":"-x`)},
		cut:               {{Data: slices.Clone(frames[cut].Data[:len(frames[cut].Data)/2])}},
		len(frames) - 100: {{Data: []byte(`{"topic":"allLiquidation.S0002USDT","type":"snapshot","ts":1,"data":[]}`)}},
		len(frames) - 50:  {{Data: []byte(`{"topic":"liquidation.S0001USDT","type":"snapshot","ts":2,"data":{"price":"2"}}`)}},
		len(frames) - 10:  {{Data: []byte(`{"topic":"orderbook.50.S0002USDT","type":"delta","ts":1,"data":{"s":"S0002USDT","b":[["1e","1"]],"a":[],"u":9,"seq":9}}`)}},
	}
	var out []ringfeed.Frame
	for i, f := range frames {
		if extra, ok := ins[i]; ok {
			out = append(out, extra...)
			if i == book || i == trade {
				continue // the bad copy stands in for the frame
			}
		}
		out = append(out, f)
	}
	return out
}
