package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/parse"
)

// TestReplayMatchesLive records what a live engine receives from the
// simulator (--record), then replays the capture and checks that the
// replay ends with exactly the live engine's books, klines and tickers:
// the replay benchmarks measure the same work as the live path.
func TestReplayMatchesLive(t *testing.T) {
	sc := Mixed8.WithRate("mixed") // Bybit's cadence: no ring drops, so no resyncs
	capture := filepath.Join(t.TempDir(), "live.capture")
	l := startLive(t, sc, func(c *ringfeed.Config) { c.Record = capture }, nil)
	time.Sleep(time.Second)
	l.sim.Pause()
	quiesce(t, l)
	l.stop()
	ctx := context.Background()
	want := l.e.Dump(ctx)
	if st := l.e.Stats(); st.StaleBooks != 0 || st.RingDrops != 0 {
		t.Fatalf("live run: %d stale books, %d ring drops; the comparison needs a clean run", st.StaleBooks, st.RingDrops)
	}

	frames, err := ReadFeedFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ringfeed.Replay(ctx, sc.ReplayConfig(), frames, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.ParseErrors != 0 {
		t.Errorf("replay: got %d parse errors; want 0", res.ParseErrors)
	}
	if len(want.Books) != 2*sc.Symbols {
		t.Fatalf("live dump: got %d books; want %d", len(want.Books), 2*sc.Symbols)
	}
	compareDumps(t, res.Dump, want)
	t.Logf("%d frames recorded live, %d messages replayed", len(frames), res.Stats.Messages)
}

// quiesce waits (bounded) until every book of the live engine has the
// update id of the last message the paused simulator sent, and the
// engine's message count has stopped moving.
func quiesce(t *testing.T, l *live) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for _, sym := range l.sc.SymbolNames() {
		for _, d := range []int{1, 50} {
			for {
				want, err := l.sim.Book(Category, sym, d)
				got, err2 := l.e.Book(ctx, sym, d, 1)
				if err == nil && err2 == nil && got.U == want.U {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s depth %d: engine u=%d (%v); simulator u=%d (%v) after 15s", sym, d, got.U, err2, want.U, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	last := l.e.Stats().Messages
	for i := 0; i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
		n := l.e.Stats().Messages
		if n == last {
			return
		}
		last = n
	}
	t.Fatal("engine still applying messages 5s after the simulator paused")
}

// compareDumps reports every book, kline window and ticker that differs.
// Values are compared as the API prints them (JSON): the live engine has
// each instrument's own scales from instruments-info, a replay the
// default ones, so the same price can be 651001 at scale 1 and
// 6510010000000 at scale 8.
func compareDumps(t *testing.T, got, want ringfeed.Dump) {
	t.Helper()
	same := func(a, b any) bool {
		ja, err1 := json.Marshal(a)
		jb, err2 := json.Marshal(b)
		return err1 == nil && err2 == nil && string(ja) == string(jb)
	}
	if len(got.Books) != len(want.Books) || len(got.Klines) != len(want.Klines) || len(got.Tickers) != len(want.Tickers) {
		t.Fatalf("got %d books, %d kline windows, %d tickers; want %d, %d, %d",
			len(got.Books), len(got.Klines), len(got.Tickers), len(want.Books), len(want.Klines), len(want.Tickers))
	}
	for i := range want.Books {
		if g, w := got.Books[i], want.Books[i]; !same(g, w) {
			t.Errorf("book %s/%d: got u=%d seq=%d stale=%v %d/%d levels; want u=%d seq=%d stale=%v %d/%d levels",
				w.Symbol, w.Depth, g.U, g.Seq, g.Stale, len(g.Bids), len(g.Asks), w.U, w.Seq, w.Stale, len(w.Bids), len(w.Asks))
		}
	}
	for i := range want.Klines {
		if g, w := got.Klines[i], want.Klines[i]; !same(g, w) {
			t.Errorf("klines %s/%s: got %d candles, gaps %d; want %d candles, gaps %d", w.Symbol, w.Interval, len(g.Klines), g.Gaps, len(w.Klines), w.Gaps)
		}
	}
	for i := range want.Tickers {
		if g, w := got.Tickers[i], want.Tickers[i]; !same(g, w) {
			t.Errorf("ticker %s: got %v; want %v", w.Symbol, g, w)
		}
	}
}

// TestPeerMatchesRingfeed checks that the conventional stack does the same
// work as ringfeed: on the same frames it ends with the same books (update
// id, sequence and every level, compared by decimal value) and applies the
// same number of messages.
func TestPeerMatchesRingfeed(t *testing.T) {
	for _, c := range []struct {
		sc     Scenario
		frames int
	}{
		{Mixed8.WithRate("mixed"), 20_000},
		{Book1000x8, 2_000},
	} {
		t.Run(c.sc.Name, func(t *testing.T) {
			frames, err := Generate(context.Background(), c.sc, 7, c.frames)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ringfeed.Replay(context.Background(), c.sc.ReplayConfig(), frames, 0)
			if err != nil {
				t.Fatal(err)
			}
			p := NewPeer(ringfeed.DefaultKlineWindow, ringfeed.DefaultTradeTape)
			for i, f := range frames {
				if err := p.Handle(f.Data); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
			}
			if got, want := uint64(p.Messages()), res.Stats.Messages; got != want {
				t.Errorf("peer applied %d messages; ringfeed %d", got, want)
			}
			if len(res.Dump.Books) == 0 {
				t.Fatal("ringfeed has no books")
			}
			for _, w := range res.Dump.Books {
				g := p.Book(w.Symbol, w.Depth)
				if g == nil {
					t.Errorf("%s/%d: the peer has no book", w.Symbol, w.Depth)
					continue
				}
				if g.Stale || w.Stale {
					t.Errorf("%s/%d: stale: peer %v, ringfeed %v", w.Symbol, w.Depth, g.Stale, w.Stale)
				}
				if g.U != w.U || g.Seq != w.Seq {
					t.Errorf("%s/%d: got u=%d seq=%d; want u=%d seq=%d", w.Symbol, w.Depth, g.U, g.Seq, w.U, w.Seq)
				}
				if err := sameLevels(g.TopBids, w.Bids); err != nil {
					t.Errorf("%s/%d bids: %v", w.Symbol, w.Depth, err)
				}
				if err := sameLevels(g.TopAsks, w.Asks); err != nil {
					t.Errorf("%s/%d asks: %v", w.Symbol, w.Depth, err)
				}
			}
		})
	}
}

// sameLevels compares the peer's float levels with ringfeed's decimal
// strings exactly: the float's shortest representation is the decimal it
// was parsed from.
func sameLevels(got []PeerLevel, want []ringfeed.Level) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d levels; want %d", len(got), len(want))
	}
	dec := func(s string) int64 {
		v, err := parse.ParseDecimal([]byte(s), 8)
		if err != nil {
			return -1
		}
		return v
	}
	f := func(x float64) int64 { return dec(strconv.FormatFloat(x, 'f', -1, 64)) }
	for i := range want {
		if f(got[i].Price) != dec(want[i].Price.String()) || f(got[i].Size) != dec(want[i].Size.String()) {
			return fmt.Errorf("level %d: got %v; want %v", i, got[i], want[i])
		}
	}
	return nil
}

var replayLine = regexp.MustCompile(`replay: frames=(\d+) messages=(\d+) parse_errors=(\d+) .*msgs/s=(\d+)`)

// TestReplayCLIAgrees runs `ringfeed replay` on an NDJSON feed the suite
// made and checks that the CLI reports the same frames, messages and parse
// errors as the suite's ringfeed.Replay call and writes the same final
// state (--dump): the CLI's msgs/s and the replay benchmark's are the same
// measurement of the same work. It builds cmd/ringfeed, so it is skipped
// with -short.
func TestReplayCLIAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/ringfeed")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	if _, err := os.Stat(filepath.Join("..", "cmd", "ringfeed")); err != nil {
		t.Skip("cmd/ringfeed not found")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ringfeed")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, "../cmd/ringfeed").CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/ringfeed: %v\n%s", err, out)
	}

	sc := Mixed8.WithRate("mixed")
	frames, err := Generate(ctx, sc, 3, 5_000)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "feed.ndjson")
	if err := WriteNDJSONFile(path, frames); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFeedFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ringfeed.Replay(ctx, sc.ReplayConfig(), back, 0)
	if err != nil {
		t.Fatal(err)
	}

	dump := filepath.Join(dir, "dump.json")
	args := append([]string{"replay", "--dump", dump}, sc.ReplayArgs(path)[1:]...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ringfeed %v: %v\n%s", args, err, out)
	}
	var m []string
	sc2 := bufio.NewScanner(bytes.NewReader(out))
	for sc2.Scan() {
		if m = replayLine.FindStringSubmatch(sc2.Text()); m != nil {
			break
		}
	}
	if m == nil {
		t.Fatalf("no replay line in:\n%s", out)
	}
	for i, want := range []uint64{uint64(res.Frames), res.Stats.Messages, uint64(res.ParseErrors)} {
		got, _ := strconv.ParseUint(m[i+1], 10, 64)
		if got != want {
			t.Errorf("CLI %s: got %d; want %d (suite)", []string{"frames", "messages", "parse_errors"}[i], got, want)
		}
	}
	raw, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	var cli ringfeed.Dump
	if err := json.Unmarshal(raw, &cli); err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(cli)
	wantJSON, _ := json.Marshal(res.Dump)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("CLI --dump differs from the suite's replay (%d vs %d bytes of JSON)", len(gotJSON), len(wantJSON))
	}
	t.Logf("CLI: %s", m[0])
}
