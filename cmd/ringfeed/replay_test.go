package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/bench"
	"github.com/ringfeed/ringfeed/capture"
)

// childEnv makes the test binary run the CLI with the arguments in it
// instead of the tests: a real process to kill.
const childEnv = "RINGFEED_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childEnv); a != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		os.Exit(run(ctx, strings.Split(a, "\x1f"), nil, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// replay has its own flags and help: no live-only flag is listed or
// accepted.
func TestReplayHasItsOwnFlags(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "replay", "-h")
	if code != 0 {
		t.Fatalf("replay -h: exit %d", code)
	}
	for _, want := range []string{"\n  -speed", "\n  -dump", "\n  -topics", "FILE..."} {
		if !strings.Contains(stderr, want) {
			t.Errorf("replay -h does not list %s:\n%s", want, stderr)
		}
	}
	for _, live := range []string{"-admin", "-ws-url", "-ping-interval", "-record", "-sim"} {
		if strings.Contains(stderr, "\n  "+live+" ") || strings.Contains(stderr, "\n  "+live+"\n") {
			t.Errorf("replay -h lists the live flag %s", live)
		}
	}
	code, _, stderr = runCLI(t, nil, "replay", "--admin", "127.0.0.1:1", "x.cap")
	if code != 2 || !strings.Contains(stderr, "admin") {
		t.Errorf("replay --admin: exit %d, stderr %q; want 2 naming the flag", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "replay", "--speed", "fast", "x.cap")
	if code != 2 || !strings.Contains(stderr, "--speed") {
		t.Errorf("replay --speed fast: exit %d, stderr %q; want 2 naming --speed", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "replay")
	if code != 2 || !strings.Contains(stderr, "usage") {
		t.Errorf("replay without a file: exit %d, stderr %q", code, stderr)
	}
}

var replayLine = regexp.MustCompile(`replay: frames=(\d+) messages=(\d+) parse_errors=(\d+) skipped=(\d+)`)

func replayCounts(t *testing.T, out string) (frames, messages, parseErrors int) {
	t.Helper()
	m := replayLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no replay line in:\n%s", out)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	c, _ := strconv.Atoi(m[3])
	return a, b, c
}

// A recording process killed with SIGKILL leaves a capture that replays:
// the recorder flushes at least every second, and replay reads every
// complete frame of a file cut mid-record, with a warning (issue 14
// item 7).
func TestKilledRecordingReplays(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a recording process for a few seconds")
	}
	path := filepath.Join(t.TempDir(), "killed.cap")
	args := []string{"--sim", "--sim-rate", "20", "--symbols", "BTCUSDT,ETHUSDT", "--admin", "off",
		"--status", "0", "--log-level", "error", "--record", path}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Wait (bounded) until frames reach the file. At 20 frames a second
	// only the periodic flush puts them there within the bound: the
	// recorder's 1 MiB buffer alone would hold them for many minutes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := os.Stat(path)
		if err == nil && st.Size() > 8<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no frames on disk after 30s: the recorder does not flush (stderr %q)", childErr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	code, out, stderr := runCLI(t, nil, "replay", path)
	if code != 0 {
		t.Fatalf("replay of the killed recording: exit %d\n%s%s", code, out, stderr)
	}
	frames, msgs, perr := replayCounts(t, out)
	if frames < 10 || msgs < 10 || perr != 0 {
		t.Fatalf("replay: %d frames, %d messages, %d parse errors; want ≥ 10, ≥ 10, 0", frames, msgs, perr)
	}

	// Seven bytes cut off a capture: every complete frame is replayed,
	// and the cut is reported.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.cap")
	os.WriteFile(cut, raw[:len(raw)-7], 0o644)
	code, out2, stderr2 := runCLI(t, nil, "replay", cut)
	if code != 0 {
		t.Fatalf("replay of a cut capture: exit %d\n%s%s", code, out2, stderr2)
	}
	if !strings.Contains(stderr2, "warning") || !strings.Contains(stderr2, "inside a record") {
		t.Errorf("no truncation warning: %q", stderr2)
	}
	f2, _, _ := replayCounts(t, out2)
	if f2 < frames-1 || f2 > frames {
		t.Errorf("cut capture: %d frames; want %d or %d", f2, frames-1, frames)
	}
}

// export --format ndjson writes what replay reads back to the same final
// state (trade tapes included); CSV follows tardis.dev's layouts.
func TestExportRoundTripAndCSV(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sc := bench.Mixed8.WithRate("mixed")
	frames, err := bench.Generate(ctx, sc, 5, 3000)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	capPath := filepath.Join(dir, "day.cap.zst")
	w, err := capture.Create(capPath, capture.WriterOptions{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	books, trades := 0, 0
	for _, f := range frames {
		w.WriteFrame(f.RecvUnixNs, f.Data)
		if bytes.HasPrefix(f.Data, []byte(`{"topic":"publicTrade.`)) {
			trades += bytes.Count(f.Data, []byte(`"i":"`))
		}
		if bytes.HasPrefix(f.Data, []byte(`{"topic":"orderbook.`)) {
			books++
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	dump := func(path string) (ringfeed.Dump, string) {
		t.Helper()
		d := path + ".dump.json"
		code, out, stderr := runCLI(t, nil, "replay", "--dump", d, path)
		if code != 0 {
			t.Fatalf("replay %s: exit %d\n%s%s", path, code, out, stderr)
		}
		raw, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		var v ringfeed.Dump
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		return v, out
	}
	want, _ := dump(capPath)
	if len(want.Trades) != sc.Symbols || len(want.Trades[0].Trades) == 0 {
		t.Fatalf("--dump holds %d trade tapes; want %d, not empty", len(want.Trades), sc.Symbols)
	}

	nd := filepath.Join(dir, "day.ndjson")
	if code, _, stderr := runCLI(t, nil, "export", "--format", "ndjson", "-o", nd, capPath); code != 0 {
		t.Fatalf("export ndjson: exit %d: %s", code, stderr)
	}
	back, err := capture.ReadAll(mustOpen(t, nd))
	if err != nil || len(back) != len(frames) {
		t.Fatalf("NDJSON export: %d frames, %v; want %d", len(back), err, len(frames))
	}
	for i := range frames {
		if back[i].RecvUnixNs != frames[i].RecvUnixNs || !bytes.Equal(back[i].Data, frames[i].Data) {
			t.Fatalf("frame %d differs after export", i)
		}
	}
	got, _ := dump(nd)
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if !bytes.Equal(gj, wj) {
		t.Error("replay of the NDJSON export differs from replay of the capture")
	}

	csvRows := func(data string, extra ...string) []string {
		t.Helper()
		out := filepath.Join(dir, data+".csv")
		args := append([]string{"export", "--format", "csv", "--data", data, "-o", out}, extra...)
		if code, _, stderr := runCLI(t, nil, append(args, capPath)...); code != 0 {
			t.Fatalf("export csv %s: exit %d: %s", data, code, stderr)
		}
		var rows []string
		sc := bufio.NewScanner(mustOpen(t, out))
		for sc.Scan() {
			rows = append(rows, sc.Text())
		}
		return rows
	}
	rows := csvRows("trades")
	if rows[0] != "exchange,symbol,timestamp,local_timestamp,id,side,price,amount" {
		t.Errorf("trades header %q", rows[0])
	}
	if len(rows)-1 != trades {
		t.Errorf("trades: %d rows; want %d", len(rows)-1, trades)
	}
	rows = csvRows("incremental_book_L2", "--depth", "50")
	if rows[0] != "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount" {
		t.Errorf("book header %q", rows[0])
	}
	for _, r := range rows[1:] {
		c := strings.Split(r, ",")
		if len(c) != 8 || c[0] != "bybit" || (c[5] != "bid" && c[5] != "ask") || (c[4] != "true" && c[4] != "false") {
			t.Fatalf("bad book row %q", r)
		}
		if ts, _ := strconv.ParseInt(c[2], 10, 64); ts < 1e15 {
			t.Fatalf("timestamp %s is not in microseconds", c[2])
		}
	}
	if len(rows) < books {
		t.Errorf("book rows: %d for %d book frames", len(rows)-1, books)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// --record-rotate takes a size of at least 1 MiB or an age of at least a
// second, and only with --record.
func TestRecordRotateFlag(t *testing.T) {
	f := func(wantSize int64, wantEvery time.Duration, args ...string) {
		t.Helper()
		o, _, err := parseArgs("ringfeed", append([]string{"--symbols", "BTCUSDT"}, args...), nil, &bytes.Buffer{})
		if wantSize < 0 {
			if err == nil || !strings.Contains(err.Error(), "--record-rotate") {
				t.Errorf("%v: got %v; want an error naming --record-rotate", args, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if o.cfg.RecordRotateSize != wantSize || o.cfg.RecordRotateEvery != wantEvery {
			t.Errorf("%v: got size %d, every %v; want %d, %v", args, o.cfg.RecordRotateSize, o.cfg.RecordRotateEvery, wantSize, wantEvery)
		}
	}
	f(512<<20, 0, "--record", "x.cap", "--record-rotate", "512MiB")
	f(2e9, 0, "--record", "x.cap", "--record-rotate", "2GB")
	f(0, time.Hour, "--record", "x.cap", "--record-rotate", "1h")
	f(-1, 0, "--record", "x.cap", "--record-rotate", "10KB")
	f(-1, 0, "--record", "x.cap", "--record-rotate", "100ms")
	f(-1, 0, "--record", "x.cap", "--record-rotate", "lots")
	f(-1, 0, "--record-rotate", "1h")
}
