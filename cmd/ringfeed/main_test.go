package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadConfigurationExits2NamingTheFlag(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		flag string
	}{
		{args: []string{"--category", "futures", "--symbols", "BTCUSDT"}, flag: "--category"},
		{args: []string{"--symbols", ""}, flag: "--symbols"},
		{args: []string{"--symbols", "BTCUSDT", "--topics", "orderbook.7"}, flag: "--topics"},
		{args: []string{"--symbols", "BTCUSDT", "--ring-size", "1000"}, flag: "--ring-size"},
		{args: []string{"--symbols", "BTCUSDT", "--gap-policy", "lenient"}, flag: "--gap-policy"},
		{args: []string{"--symbols", "BTCUSDT", "--ws-url", "http://x"}, flag: "--ws-url"},
		{args: []string{"--symbols", "BTCUSDT", "--admin", "nonsense"}, flag: "--admin"},
		{args: []string{"--symbols", "BTCUSDT", "--backoff-base", "10s", "--backoff-cap", "1s"}, flag: "--backoff-cap"},
		{args: []string{"--symbols", "BTCUSDT", "--log-format", "xml"}, flag: "--log-format"},
		{args: []string{"--symbols", "BTCUSDT", "--cpus", "a"}, flag: "--cpus"},
		{args: []string{"--no-such-flag"}, flag: "no-such-flag"},
		{args: []string{"--symbols", "BTCUSDT"}, env: map[string]string{"RINGFEED_RING_SIZE": "3"}, flag: "--ring-size"},
		{args: []string{"--symbols", "BTCUSDT", "--sim", "--sim-rate", "fast"}, flag: "--sim-rate"},
		{args: []string{"--stream", "spot:BTCUSDT"}, flag: "--stream"},
		{args: []string{"--stream", "spot:BTCUSDT:orderbook.50", "--symbols", "ETHUSDT"}, flag: "--stream"},
		{args: []string{"--stream", "spot:BTCUSDT:orderbook.50", "--stream", "spot:ETHUSDT:orderbook.50"}, flag: "--stream"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.env, c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d; want 2 (stderr %q)", c.args, code, stderr)
		}
		if !strings.Contains(stderr, c.flag) {
			t.Errorf("%v: stderr %q does not name %s", c.args, stderr, c.flag)
		}
	}
}

func TestFlagsWinOverEnvAndConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "ringfeed.conf")
	if err := os.WriteFile(cfgFile, []byte("# test\nring-size = 2048\nsymbols = ETHUSDT\nping-interval = 5s\nidle-timeout = 11s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RINGFEED_RING_SIZE": "4096", "RINGFEED_CATEGORY": "spot"}
	o, _, err := parseArgs("ringfeed", []string{"--config", cfgFile, "--ring-size", "1024"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.RingSize != 1024 {
		t.Errorf("ring-size: got %d; want the flag's 1024", o.cfg.RingSize)
	}
	if o.cfg.Category != "spot" {
		t.Errorf("category: got %q; want the environment's spot", o.cfg.Category)
	}
	if len(o.cfg.Symbols) != 1 || o.cfg.Symbols[0] != "ETHUSDT" || o.cfg.PingInterval != 5*time.Second {
		t.Errorf("config file values not applied: %v %v", o.cfg.Symbols, o.cfg.PingInterval)
	}
	env = map[string]string{}
	if _, _, err := parseArgs("ringfeed", []string{"--config", filepath.Join(dir, "missing")}, func(k string) string { return env[k] }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("missing config file: got %v; want an error naming --config", err)
	}
}

func TestSimRunRecordAndReplay(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "feed.cap")
	code, out, stderr := runCLI(t, nil, "--sim", "--duration", "3s", "--admin", "127.0.0.1:0", "--status", "1s",
		"--symbols", "BTCUSDT,ETHUSDT", "--topics", "orderbook.50,kline.5", "--record", capture, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	for _, want := range []string{"status msgs/s=", "summary: handling latency p50="} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	dump := filepath.Join(dir, "dump.json")
	code, out, stderr = runCLI(t, nil, "replay", "--dump", dump, capture)
	if code != 0 {
		t.Fatalf("replay exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(out, "replay: frames=") || strings.Contains(out, "frames=0 ") {
		t.Errorf("replay output:\n%s", out)
	}
	b, err := os.ReadFile(dump)
	if err != nil || !bytes.Contains(b, []byte(`"symbol": "BTCUSDT"`)) {
		t.Errorf("dump: %v %.200s", err, b)
	}
	// Replay without --topics replays what the capture holds (kline.5 is
	// not among the live defaults).
	if !bytes.Contains(b, []byte(`"interval": "5"`)) {
		t.Errorf("dump lacks the kline.5 window the capture holds: %.300s", b)
	}
	if code, _, stderr = runCLI(t, nil, "replay", filepath.Join(dir, "nope")); code != 2 {
		t.Errorf("replay of a missing file: exit %d; want 2 (%s)", code, stderr)
	}
}

// --sim serves the symbols asked for, including ones its default market
// does not have (a user trying many symbols), instead of failing the
// instruments check.
func TestSimServesRequestedSymbols(t *testing.T) {
	code, out, stderr := runCLI(t, nil, "--sim", "--duration", "3s", "--status", "0",
		"--symbols", "NEWCOINUSDT,BTCUSDT", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(out, "stale_books=0/2") || strings.Contains(out, "messages=0 ") {
		t.Fatalf("want both books live and messages applied:\n%s", out)
	}
}

// --stream runs several categories in one process, here against the
// simulator: both categories' books go live.
func TestSimSeveralCategories(t *testing.T) {
	code, out, stderr := runCLI(t, nil, "--sim", "--duration", "3s", "--status", "0", "--admin", "off",
		"--stream", "linear:BTCUSDT,ETHUSDT:orderbook.50", "--stream", "spot:BTCUSDT:orderbook.1,publicTrade", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(out, "connections=2 ") || !strings.Contains(out, "stale_books=0/3") || strings.Contains(out, "messages=0 ") {
		t.Fatalf("want two connections and three live books:\n%s", out)
	}
}
