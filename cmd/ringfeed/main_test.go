package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, environ(env), &out, &errb)
	return code, out.String(), errb.String()
}

// environ turns a map into os.Environ's KEY=value form.
func environ(env map[string]string) []string {
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	return kv
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
	o, _, err := parseArgs("ringfeed", []string{"--config", cfgFile, "--ring-size", "1024"}, environ(env), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.RingSize != 1024 {
		t.Errorf("ring-size: got %d; want the flag's 1024", o.cfg.RingSize)
	}
	if o.cfg.Category != "spot" {
		t.Errorf("category: got %q; want the environment's spot", o.cfg.Category)
	}
	if len(o.cfg.Symbols) != 1 || o.cfg.Symbols[0] != "ETHUSDT" || o.cfg.Session.PingInterval != 5*time.Second {
		t.Errorf("config file values not applied: %v %v", o.cfg.Symbols, o.cfg.Session.PingInterval)
	}
	env = map[string]string{}
	if _, _, err := parseArgs("ringfeed", []string{"--config", filepath.Join(dir, "missing")}, environ(env), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--config") {
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
		"--admin", "off", "--symbols", "NEWCOINUSDT,BTCUSDT", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(out, "stale_books=0/2") || strings.Contains(out, "messages=0 ") {
		t.Fatalf("want both books live and messages applied:\n%s", out)
	}
}

// A bad RINGFEED_ value stops the program with status 2 and names the
// variable; it used to be ignored silently.
func TestBadEnvironmentValueExits2NamingTheVariable(t *testing.T) {
	for _, kv := range [][2]string{
		{"RINGFEED_RING_SIZE", "abc"},
		{"RINGFEED_PING_INTERVAL", "garbage"},
		{"RINGFEED_SIM", "maybe"},
	} {
		code, _, stderr := runCLI(t, map[string]string{kv[0]: kv[1]}, "--symbols", "BTCUSDT", "--admin", "off", "--duration", "1ms",
			"--ws-url", "ws://127.0.0.1:1", "--rest-url", "http://127.0.0.1:1")
		if code != 2 || !strings.Contains(stderr, kv[0]) {
			t.Errorf("%s=%s: exit %d, stderr %q; want 2 naming the variable", kv[0], kv[1], code, stderr)
		}
	}
}

// An unknown RINGFEED_ variable (a typo, say) is reported, not ignored.
func TestUnknownEnvironmentVariableWarns(t *testing.T) {
	var out bytes.Buffer
	env := []string{"RINGFEED_RING_SIZ=4096", "RINGFEED_SYMBOLS=BTCUSDT", "HOME=/x"}
	o, _, err := parseArgs("ringfeed", nil, env, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.cfg.Symbols) != 1 {
		t.Errorf("RINGFEED_SYMBOLS not applied: %v", o.cfg.Symbols)
	}
	if !strings.Contains(out.String(), "RINGFEED_RING_SIZ") || strings.Contains(out.String(), "RINGFEED_SYMBOLS") {
		t.Errorf("warnings %q: want one for RINGFEED_RING_SIZ only", out.String())
	}
}

// Config file errors name the file and the line.
func TestConfigFileErrorNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ body, want string }{
		{"symbols = BTCUSDT\nring-size = many\n", ":2: invalid value"},
		{"# c\n\nno-such = 1\n", ":3: unknown setting"},
		{"symbols BTCUSDT\n", ":1: want 'name = value'"},
	} {
		f := filepath.Join(dir, "ringfeed.conf")
		if err := os.WriteFile(f, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, nil, "--config", f, "--admin", "off")
		if code != 2 || !strings.Contains(stderr, f+c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.body, code, stderr, f+c.want)
		}
	}
}

// --help lists every flag with its default, zero defaults included, and
// every accepted form of --sim-rate.
func TestHelpShowsEveryDefault(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	o := &options{}
	fs := newFlagSet("ringfeed", o, &bytes.Buffer{})
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		i := strings.Index(stderr, "\n  --"+f.Name+" ")
		if i < 0 {
			i = strings.Index(stderr, "\n  --"+f.Name+"\n")
		}
		if i < 0 {
			t.Errorf("--help lacks --%s", f.Name)
			return
		}
		entry := stderr[i+1:]
		if j := strings.Index(entry[1:], "\n  --"); j >= 0 {
			entry = entry[:j+1]
		}
		if f.Name != "version" && !strings.Contains(entry, "(default ") {
			t.Errorf("--%s shows no default: %q", f.Name, entry)
		}
	})
	if n < 40 {
		t.Errorf("only %d flags", n)
	}
	for _, want := range []string{"N/stream", "--spin duration", "(default 50µs)", "RINGFEED_", "application ping interval (range [100ms, 10m0s]) (default 20s)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// --version reports the version stamped with -ldflags, and the Go
// version; this builds the real binary.
func TestVersionFromLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "ringfeed")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "ringfeed v9.8.7 ") || !strings.Contains(string(out), runtime.Version()) {
		t.Errorf("--version: %q", out)
	}
	code, stdout, _ := runCLI(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(stdout, "ringfeed ") {
		t.Errorf("--version from run: exit %d, %q", code, stdout)
	}
}

// Values no deployment could want are refused with the accepted range,
// and a 0 that the library would silently read as "the default" too.
func TestOutOfRangeFlagsExit2WithTheRange(t *testing.T) {
	for _, c := range []struct {
		flag, value, want string
	}{
		{"--ping-interval", "1ns", "[100ms, 10m0s]"},
		{"--pong-timeout", "1ns", "[100ms, 10m0s]"},
		{"--ping-interval", "0s", "[100ms, 10m0s]"},
		{"--ring-size", "0", "[64, 1048576]"},
		{"--max-message", "0", "[4096, 1073741824]"},
		{"--idle-timeout", "1ms", "[200ms, 1h0m0s]"},
		{"--hook-budget", "0", "[1µs, 1m0s]"},
	} {
		code, _, stderr := runCLI(t, nil, "--symbols", "BTCUSDT", "--admin", "off", "--ws-url", "ws://127.0.0.1:1",
			"--rest-url", "http://127.0.0.1:1", "--duration", "1ms", c.flag, c.value)
		if code != 2 || !strings.Contains(stderr, c.flag+":") || !strings.Contains(stderr, c.want) {
			t.Errorf("%s %s: exit %d, stderr %q; want 2 naming the flag and %s", c.flag, c.value, code, stderr, c.want)
		}
	}
}

// A taken admin port stops the program at once with status 2 and one
// "ringfeed:" prefix; the status loop used to keep it running until
// killed.
func TestAdminPortTakenExits2AtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The context outlasts any sane start-up: run returning while it is
	// still live means the program did not wait for it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"--sim", "--symbols", "BTCUSDT", "--admin", ln.Addr().String(), "--status", "10ms", "--log-level", "error"}, nil, &out, &errb)
	stderr := errb.String()
	if ctx.Err() != nil {
		t.Errorf("run returned only when its context ended")
	}
	if code != 2 {
		t.Errorf("exit %d; want 2 (stderr %q)", code, stderr)
	}
	if !strings.Contains(stderr, "ringfeed: --admin: listen") || strings.Count(stderr, "ringfeed:") != 1 {
		t.Errorf("stderr %q: want one 'ringfeed: --admin: listen' line", stderr)
	}
}

// The CA file is read at start: missing or not PEM exits 2.
func TestCAFileCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "hostname")
	if err := os.WriteFile(notPEM, []byte("myhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "missing.pem"), notPEM} {
		code, _, stderr := runCLI(t, nil, "--sim", "--symbols", "BTCUSDT", "--admin", "off", "--ca-file", f, "--duration", "5s")
		if code != 2 || !strings.Contains(stderr, "--ca-file:") {
			t.Errorf("--ca-file %s: exit %d, stderr %q; want 2 naming --ca-file", f, code, stderr)
		}
	}
}

// A non-loopback admin address needs --admin-public: the admin server has
// no authentication and serves pprof.
func TestAdminBeyondLoopbackNeedsOptIn(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "--sim", "--symbols", "BTCUSDT", "--admin", "0.0.0.0:0", "--duration", "5s")
	if code != 2 || !strings.Contains(stderr, "--admin:") || !strings.Contains(stderr, "--admin-public") {
		t.Errorf("exit %d, stderr %q; want 2 naming --admin and --admin-public", code, stderr)
	}
	code, out, stderr := runCLI(t, nil, "--sim", "--symbols", "BTCUSDT", "--admin", "0.0.0.0:0", "--admin-public",
		"--duration", "1s", "--status", "0", "--log-level", "error")
	if code != 0 || !strings.Contains(out, "summary:") {
		t.Errorf("with --admin-public: exit %d, stderr %q", code, stderr)
	}
}

// The admin port is bound before the REST calls at start, so a taken port
// fails at once even when REST is slow: the (hanging) REST server never
// sees a request.
func TestAdminPortCheckedBeforeREST(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var requests atomic.Int32
	release := make(chan struct{})
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select { // hang like an unreachable REST endpoint, until the test ends
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer rest.Close()
	defer close(release)
	code, stdout, stderr := runCLI(t, nil, "--symbols", "BTCUSDT", "--ws-url", "ws://127.0.0.1:1", "--rest-url", rest.URL,
		"--admin", ln.Addr().String(), "--log-level", "error")
	if code != 2 || !strings.Contains(stderr, "--admin: listen") || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2, an --admin listen error and no summary", code, stdout, stderr)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("REST saw %d requests before the admin port was checked", n)
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
