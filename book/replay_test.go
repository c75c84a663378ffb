package book

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// bybitDir holds the real frames shared by the project; tests skip when it
// is absent.
var bybitDir = filepath.Join("..", "..", "shared", "testdata", "bybit")

// testScale is the fixed-point scale the replay tests use for prices and
// sizes alike: 8 decimals covers every order-book number in the captures.
const testScale = 8

// parseFixed turns a decimal string into int64 fixed point with scale
// decimals, rejecting anything it cannot represent exactly. Test helper
// only: the engine's parser lives in package parse.
func parseFixed(s string, scale int) (int64, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var v int64
	frac := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' && frac < 0 {
			frac = 0
			continue
		}
		if c < '0' || c > '9' {
			return 0, errors.New("bad digit in " + s)
		}
		if frac >= 0 {
			frac++
			if frac > scale {
				if c != '0' {
					return 0, errors.New("too many decimals in " + s)
				}
				continue
			}
		}
		if v > (1<<63-1-9)/10 {
			return 0, errors.New("overflow in " + s)
		}
		v = v*10 + int64(c-'0')
	}
	for frac = max(frac, 0); frac < scale; frac++ {
		if v > (1<<63-1)/10 {
			return 0, errors.New("overflow in " + s)
		}
		v *= 10
	}
	if neg {
		v = -v
	}
	return v, nil
}

func TestParseFixed(t *testing.T) {
	f := func(in string, want int64, ok bool) {
		t.Helper()
		got, err := parseFixed(in, 4)
		if (err == nil) != ok || got != want {
			t.Errorf("parseFixed(%q, 4) = %d, %v; want %d, ok %v", in, got, err, want, ok)
		}
	}
	f("1.9531", 19531, true)
	f("6203", 62030000, true)
	f("0", 0, true)
	f("0.00010", 1, true)
	f("-2.5", -25000, true)
	f("1.23456", 0, false)
	f("1e5", 0, false)
	f("", 0, false)
	f("99999999999999999999", 0, false)
}

type frame struct {
	Topic string `json:"topic"`
	Type  string `json:"type"`
	TS    int64  `json:"ts"`
	CTS   int64  `json:"cts"`
	Data  struct {
		B   [][]string `json:"b"`
		A   [][]string `json:"a"`
		U   int64      `json:"u"`
		Seq int64      `json:"seq"`
	} `json:"data"`
}

// decoded is one order-book frame in the book's terms.
type decoded struct {
	snapshot   bool
	h          Header
	bids, asks []Level
}

func decodeLevels(pairs [][]string) ([]Level, error) {
	out := make([]Level, 0, len(pairs))
	for _, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("level %q: got %d fields; want 2", p, len(p))
		}
		px, err := parseFixed(p[0], testScale)
		if err != nil {
			return nil, err
		}
		sz, err := parseFixed(p[1], testScale)
		if err != nil {
			return nil, err
		}
		out = append(out, Level{px, sz})
	}
	return out, nil
}

// readFrames reads the order-book frames of one capture file (JSON or JSON
// lines); the error wraps os.ErrNotExist when the shared data is absent.
func readFrames(name string) ([]decoded, error) {
	fh, err := os.Open(filepath.Join(bybitDir, name))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []decoded
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var fr frame
		if err := json.Unmarshal([]byte(line), &fr); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if !strings.HasPrefix(fr.Topic, "orderbook.") {
			return nil, fmt.Errorf("%s: got topic %q; want orderbook.*", name, fr.Topic)
		}
		d := decoded{
			snapshot: fr.Type == "snapshot",
			h:        Header{U: fr.Data.U, Seq: fr.Data.Seq, TS: fr.TS, CTS: fr.CTS},
		}
		if d.bids, err = decodeLevels(fr.Data.B); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if d.asks, err = decodeLevels(fr.Data.A); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, d)
	}
	return out, sc.Err()
}

// loadFrames is readFrames for tests and benchmarks: it skips when the
// shared test data is absent and fails on any other error.
func loadFrames(tb testing.TB, name string) []decoded {
	tb.Helper()
	frames, err := readFrames(name)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("shared test data absent: %v", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return frames
}

// replayOps turns decoded frames into API calls, splitting every message
// into pieces of at most chunk levels so split application is exercised on
// real data too.
func replayOps(frames []decoded, chunk int) []op {
	var ops []op
	for _, fr := range frames {
		kind := opBeginDelta
		if fr.snapshot {
			kind = opBeginSnapshot
		}
		ops = append(ops, op{kind: kind, h: fr.h})
		for s, lv := range [][]Level{fr.bids, fr.asks} {
			for len(lv) > 0 {
				n := min(chunk, len(lv))
				ops = append(ops, op{kind: opSetLevels, side: Side(s), levels: lv[:n]})
				lv = lv[n:]
			}
		}
		ops = append(ops, op{kind: opEnd})
	}
	return ops
}

// TestReplayXRPUSDT500 applies the 50 captured orderbook.500 frames (one
// snapshot, 49 deltas with u stepping by one) to a book capped at 500, both
// whole and split into pieces, and against the reference model: the book is
// never stale or crossed and holds exactly 500 levels a side after every
// frame; the feed never deletes an absent level and never overflows the
// window, so the cap evicts nothing.
func TestReplayXRPUSDT500(t *testing.T) {
	frames := loadFrames(t, "linear-orderbook500-XRPUSDT-sequence-20241201.jsonl")
	if len(frames) != 50 || !frames[0].snapshot {
		t.Fatalf("got %d frames (first snapshot %v); want 50 starting with a snapshot", len(frames), len(frames) > 0 && frames[0].snapshot)
	}
	t.Run("whole", func(t *testing.T) {
		b := New(Config{Depth: 500})
		for i, fr := range frames {
			var err error
			if fr.snapshot {
				err = b.ApplySnapshot(fr.h, fr.bids, fr.asks)
			} else {
				err = b.ApplyDelta(fr.h, fr.bids, fr.asks)
			}
			if err != nil || b.Stale() {
				t.Fatalf("frame %d (u=%d): got %v, stale %v (%v); want applied, live", i, fr.h.U, err, b.Stale(), b.Reason())
			}
			if nb, na := b.Len(Bid), b.Len(Ask); nb != 500 || na != 500 {
				t.Fatalf("frame %d: got %d bids, %d asks; want 500, 500", i, nb, na)
			}
			if s, _ := b.Spread(); s <= 0 {
				t.Fatalf("frame %d: got spread %d; want > 0", i, s)
			}
		}
		c := b.Counters()
		if c.Snapshots != 1 || c.Deltas != 49 || c.AbsentDeletes != 0 || c.Evictions != 0 || c.Gaps != 0 {
			t.Fatalf("counters: got %+v; want 1 snapshot, 49 deltas, no absent deletes, evictions or gaps", c)
		}
		if q, _ := b.Top().Load(); q.U != frames[49].h.U || q.Stale {
			t.Fatalf("published: got %+v; want u %d, live", q, frames[49].h.U)
		}
	})
	for _, chunk := range []int{1, 37, 1000} {
		t.Run("model/chunk="+strconv.Itoa(chunk), func(t *testing.T) {
			h := newHarness(t, Config{Depth: 500})
			for _, o := range replayOps(frames, chunk) {
				h.do(o)
				if o.kind == opEnd && h.b.Stale() {
					t.Fatalf("went stale: %v", h.b.Reason())
				}
			}
		})
	}
}

// TestReplayCapturedPairs applies the other captured snapshot/delta pairs:
// each delta continues its snapshot (u+1) and the book stays live.
func TestReplayCapturedPairs(t *testing.T) {
	cases := []struct {
		files []string
		depth int
	}{
		{[]string{"spot-orderbook50-BTCUSDT-snapshot-20241108.json", "spot-orderbook50-BTCUSDT-delta-20241108.json"}, 50},
		{[]string{"spot-orderbook50-BTCUSDT-snapshot-20230421-testnet.json", "spot-orderbook50-BTCUSDT-delta-20230421-testnet.json"}, 50},
		{[]string{"spot-orderbook50-BTCUSDT-snapshot-20230405-trimmed.json", "spot-orderbook50-BTCUSDT-delta-20230405.json"}, 50},
		{[]string{"linear-orderbook50-BTCPERP-snapshot-20230405-trimmed.json", "linear-orderbook50-BTCPERP-delta-20230405.json"}, 50},
		{[]string{"linear-orderbook1-BTCUSDT-snapshot-20230405.json", "linear-orderbook1-BTCUSDT-delta-20230405.json"}, 1},
		{[]string{"spot-orderbook1-BTCUSDT-snapshot-20230405.json", "spot-orderbook1-BTCUSDT-delta-20230405.json"}, 1},
		{[]string{"option-orderbook25-SOL-28APR23-30-C-snapshot-20230404.json", "option-orderbook25-SOL-28APR23-30-C-delta-20230404.json"}, 25},
		{[]string{"option-orderbook25-BTC-30JUN23-45000-P-empty-snapshot-20230404.json"}, 25},
		{[]string{"linear-orderbook1-BTCUSDT-snapshot-20250925.json", "linear-orderbook1-BTCUSDT-snapshot-20250925.json"}, 1}, // a re-send with the same u
	}
	for _, c := range cases {
		t.Run(c.files[0], func(t *testing.T) {
			h := newHarness(t, Config{Depth: c.depth})
			for _, name := range c.files {
				for _, o := range replayOps(loadFrames(t, name), 7) {
					h.do(o)
				}
				if h.b.Stale() {
					t.Fatalf("after %s: got stale (%v); want live", name, h.b.Reason())
				}
				if n := h.b.Len(Bid); n > c.depth {
					t.Fatalf("after %s: got %d bids; want <= %d", name, n, c.depth)
				}
			}
		})
	}
}
