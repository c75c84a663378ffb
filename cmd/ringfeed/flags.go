package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/session"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/ring"
)

// options are the command line settings beyond ringfeed.Config.
type options struct {
	cfg          ringfeed.Config
	sim          bool
	simRate      string
	simSeed      uint64
	duration     time.Duration
	status       time.Duration
	logLevel     string
	logFormat    string
	config       string
	recordRotate string
	chaos        string
	topicsSet    bool // --topics given (flag, environment or file)
	stallFor     time.Duration
	stallEvery   time.Duration
	gap          string
	symbols      string
	streams      []string
	topics       string
	cpus         string
	version      bool
	// klineHistory is --kline-history; the library's field is its
	// negation, so that the zero Config has history on too.
	klineHistory bool
	pub          pubOptions // NATS fan-out (publish.go)
	all          allOptions // --symbols all (symbols.go)
}

// usageError is a bad command line: exit status 2, naming the flag.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func flagErr(name, format string, args ...any) error {
	return &usageError{"--" + name + ": " + fmt.Sprintf(format, args...)}
}

// The flags are registered in groups: registerShared holds the pipeline's
// settings, registerLive the network, admin and simulator flags. Every
// group takes the FlagSet and the options it writes into. `ringfeed
// replay` and `ringfeed export` have flag sets of their own (replay.go,
// export.go): only what they read.

// registerShared declares the flags of the pipeline itself: what to
// process and how, logging, and --config.
func registerShared(fs *flag.FlagSet, o *options) {
	c := &o.cfg
	fs.StringVar(&o.config, "config", "", "config `file` of 'flag = value' lines; '#' starts a comment (flags and environment win over it)")
	fs.Func("category", "Bybit category: spot, linear, inverse or option (default linear)", func(s string) error {
		c.Category = ringfeed.Category(s)
		return nil
	})
	fs.StringVar(&o.symbols, "symbols", "", "comma-separated `symbols`, e.g. BTCUSDT,ETHUSDT (required live; replay: those in the capture)")
	fs.StringVar(&o.topics, "topics", "orderbook.50,kline.1,tickers,publicTrade", "comma-separated `topics`: orderbook.{1,50,200,1000} (option: 25, 100), kline.{1,3,5,15,30,60,120,240,360,720,D,W,M}, tickers, publicTrade")
	fs.IntVar(&c.Processors, "processors", 0, "processor goroutines; 0: one per spare core, at least one")
	fs.BoolVar(&c.Pin, "pin", false, "lock each processor to an OS thread bound to a CPU")
	fs.StringVar(&o.cpus, "cpus", "", "comma-separated CPU `list` for --pin (default all but CPU 0)")
	fs.Func("wait", "how processors wait for data: `mode` park (sleep until woken; no core busy when idle) or spin (a locked thread busy-polls: fastest hand-off, one core per processor) (default park)", func(s string) error {
		m, err := ring.ParseMode(s)
		if err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), "ring: "))
		}
		c.Wait = m
		return nil
	})
	fs.BoolVar(&c.NoLend, "no-lend", false, "with --wait park: readers never apply for their parked processor; every message wakes it")
	fs.BoolVar(&c.Isolate, "isolate", false, "with --wait spin and --cpus: move every other thread of the process off the spinners' CPUs while they run (Linux)")
	fs.IntVar(&c.RingSize, "ring-size", ringfeed.DefaultRingSize, "slots per connection ring, a power of two")
	fs.DurationVar(&c.HookBudget, "hook-budget", ringfeed.DefaultHookBudget, "user hook time budget; calls over it are counted and logged")
	fs.StringVar(&o.gap, "gap-policy", "strict", "order book update id `policy`: strict (u steps by 1) or monotonic")
	fs.IntVar(&c.KlineWindow, "kline-window", ringfeed.DefaultKlineWindow, "candles kept per symbol and interval")
	fs.IntVar(&c.TradeTape, "trade-tape", ringfeed.DefaultTradeTape, "trades kept per symbol")
	fs.StringVar(&o.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
}

// registerLive declares the flags of a live run: endpoints, connections,
// the admin server, recording, the simulator and the run's length.
func registerLive(fs *flag.FlagSet, o *options) {
	c := &o.cfg
	fs.StringVar(&c.WSURL, "ws-url", "", "WebSocket `URL`: ws://… or wss://…, or 'mainnet' or 'testnet' (default mainnet for the category)")
	fs.StringVar(&c.RESTURL, "rest-url", "", "REST base `URL`: http://… or https://…, or 'mainnet' or 'testnet' (default mainnet)")
	fs.StringVar(&c.CAFile, "ca-file", "", "extra PEM certificate authority `file` for wss and https, read at start (verification is always on)")
	fs.StringVar(&c.Admin, "admin", ringfeed.DefaultAdmin, "admin HTTP `address` host:port (/metrics, /debug/pprof/, /v1/..., /healthz), or 'off'; must be loopback unless --admin-public")
	fs.Func("stream", "serve a category with its own symbols and topics, as `category:SYMBOLS:TOPICS`, e.g. spot:BTCUSDT:orderbook.50,publicTrade; repeat for several categories in one process (instead of --category, --symbols and --topics)", func(s string) error {
		o.streams = append(o.streams, s) // parsed by finish, so errors name --stream
		return nil
	})
	fs.BoolVar(&c.AdminPublic, "admin-public", false, "allow a non-loopback --admin address: exposes /debug/pprof and the state API without authentication")
	fs.DurationVar(&c.RingFullWait, "ring-full-wait", ringfeed.DefaultRingFullWait, "how long a reader waits on a full ring before dropping and resyncing")
	fs.IntVar(&c.SymbolsPerConn, "symbols-per-conn", ringfeed.DefaultSymbolsPerConn, "symbols sharded onto one connection")
	s, p := &c.Session, &c.Probe
	fs.DurationVar(&s.Dial.IdleTimeout, "idle-timeout", session.DefaultIdleTimeout, "reconnect when no frame arrives for this long (must exceed --ping-interval)")
	fs.DurationVar(&s.PingInterval, "ping-interval", session.DefaultPingInterval, "application ping interval")
	fs.DurationVar(&s.PongTimeout, "pong-timeout", session.DefaultPongTimeout, "reconnect when a pong does not arrive within this")
	fs.DurationVar(&s.Dial.DialTimeout, "dial-timeout", wsconn.DefaultDialTimeout, "TCP dial timeout")
	fs.DurationVar(&s.Dial.HandshakeTimeout, "handshake-timeout", wsconn.DefaultHandshakeTimeout, "TLS and WebSocket handshake timeout")
	fs.DurationVar(&s.Dial.WriteTimeout, "write-timeout", wsconn.DefaultWriteTimeout, "bound on each WebSocket write (subscribe, ping, pong)")
	fs.Int64Var(&s.Dial.MaxMessageSize, "max-message", wsconn.DefaultMaxMessageSize, "largest WebSocket message accepted in `bytes`; larger closes with 1009 and reconnects")
	fs.DurationVar(&s.BackoffBase, "backoff-base", session.DefaultBackoffBase, "reconnect backoff base (full jitter)")
	fs.DurationVar(&s.BackoffCap, "backoff-cap", session.DefaultBackoffCap, "reconnect backoff cap (at least --backoff-base)")
	fs.IntVar(&c.ConnectLimit, "connect-limit", session.DefaultConnects, "new connections allowed in any 5 minutes, half at once (Bybit allows 500 per IP)")
	fs.DurationVar(&p.ConnectTimeout, "probe-connect-timeout", session.DefaultProbeConnectTimeout, "network probe connect timeout")
	fs.DurationVar(&p.Timeout, "probe-timeout", session.DefaultProbeTimeout, "network probe and REST request timeout (at least --probe-connect-timeout)")
	fs.BoolVar(&o.klineHistory, "kline-history", true, "fill kline windows from REST at start and after gaps")
	fs.StringVar(&c.Record, "record", "", "capture raw frames with receive times to `file` (zstd when it ends in .zst; flushed every second)")
	fs.StringVar(&o.recordRotate, "record-rotate", "", "start a new numbered --record file past a `size or age` (e.g. 512MiB, 2GB, 1h); empty: never")
	fs.BoolVar(&o.sim, "sim", false, "run against the embedded Bybit simulator on 127.0.0.1")
	fs.StringVar(&o.simRate, "sim-rate", "mixed", "simulator `rate`: mixed (realistic mix), max (as fast as possible), N (messages/s in total) or N/stream (messages/s per stream), 0 < N <= 1e7")
	fs.Uint64Var(&o.simSeed, "sim-seed", 1, "simulator `seed`")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long; 0: run until SIGINT or SIGTERM")
	fs.DurationVar(&o.status, "status", 2*time.Second, "status line interval; 0: off")
	fs.StringVar(&o.chaos, "chaos-hook-stall", "", "testing only: a book hook that sleeps D once every E, as `D/E` (e.g. 2s/30s), to rehearse a stalled consumer; empty: off")
	addPublishFlags(fs, o)
	addSymbolsAllFlags(fs, o)
}

// newFlagSet declares every flag on o, plus --version, and the usage text
// that lists them all with their defaults.
func newFlagSet(name string, o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	registerShared(fs, o)
	registerLive(fs, o)
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Usage = func() { printUsage(fs, name) }
	return fs
}

// printUsage writes every flag with its default (also a zero one, which
// the flag package hides) and where else a setting can come from.
func printUsage(fs *flag.FlagSet, name string) {
	w := fs.Output()
	if name == "ringfeed" {
		fmt.Fprintf(w, "usage: ringfeed [flags]\n       ringfeed replay [flags] FILE...   (see ringfeed replay -h)\n       ringfeed export [flags] FILE...   (see ringfeed export -h)\n\n")
	} else {
		fmt.Fprintf(w, "usage: %s [flags]\n\n", name)
	}
	fmt.Fprintf(w, "Every flag can also be set as RINGFEED_<NAME> in the environment (upper case,\n"+
		"dashes as underscores: RINGFEED_RING_SIZE=4096) or as a 'name = value' line in\n"+
		"the --config file. A flag wins over the environment, which wins over the file.\n"+
		"A bad value anywhere exits with status 2 and names the flag or variable.\n\nflags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if typ != "" {
			fmt.Fprintf(w, " %s", typ)
		}
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		if r, ok := ringfeed.Range(fieldOf[f.Name]); ok {
			fmt.Fprintf(w, " (range %s)", r)
		}
		if !strings.Contains(usage, "(default ") && f.Name != "version" {
			def := f.DefValue
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	})
}

// envKey is the environment variable that sets flag name.
func envKey(name string) string {
	return "RINGFEED_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parseArgs parses args with defaults from environ (KEY=value strings, as
// os.Environ returns) and the config file. Warnings (an unknown RINGFEED_
// variable) go to out.
func parseArgs(name string, args []string, environ []string, out io.Writer) (*options, []string, error) {
	o := &options{}
	fs := newFlagSet(name, o, out)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, &usageError{err.Error()}
	}
	if o.version {
		return o, fs.Args(), nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := applyEnv(fs, set, environ, out); err != nil {
		return nil, nil, err
	}
	if o.config != "" {
		if err := applyConfigFile(fs, set, o.config); err != nil {
			return nil, nil, err
		}
	}
	o.topicsSet = set["topics"]
	if err := rejectZero(fs); err != nil {
		return nil, nil, err
	}
	if err := o.finish(); err != nil {
		return nil, nil, err
	}
	return o, fs.Args(), nil
}

// applyEnv sets every flag not in set from its RINGFEED_ variable and
// marks it set. A bad value is a usage error naming the variable; a
// RINGFEED_ variable that names no flag gets a warning on out.
func applyEnv(fs *flag.FlagSet, set map[string]bool, environ []string, out io.Writer) error {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "RINGFEED_") {
			env[k] = v
		}
	}
	known := map[string]bool{}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		key := envKey(f.Name)
		known[key] = true
		v := env[key]
		if set[f.Name] || v == "" || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = &usageError{fmt.Sprintf("%s=%q: invalid value for --%s: %v", key, v, f.Name, e)}
			return
		}
		set[f.Name] = true
	})
	if err != nil {
		return err
	}
	var unknown []string
	for k := range env {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		fmt.Fprintf(out, "ringfeed: warning: ignoring %s: no flag --%s\n", k, strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k, "RINGFEED_")), "_", "-"))
	}
	return nil
}

// applyConfigFile sets every flag not in set from the file's lines. Every
// error names the file and the line.
func applyConfigFile(fs *flag.FlagSet, set map[string]bool, path string) error {
	lines, err := readConfigFile(path)
	if err != nil {
		return flagErr("config", "%v", err)
	}
	for _, l := range lines {
		if fs.Lookup(l.name) == nil {
			return flagErr("config", "%s:%d: unknown setting %q", path, l.n, l.name)
		}
		if set[l.name] {
			continue
		}
		if err := fs.Set(l.name, l.value); err != nil {
			return flagErr(l.name, "%s:%d: invalid value %q: %v", path, l.n, l.value, err)
		}
	}
	return nil
}

// flagOf maps a ringfeed.Config field, as ConfigError names it, to the
// flag that sets it. Add a line with every flag that sets a Config field.
var flagOf = map[string]string{
	"Category":                      "category",
	"Symbols":                       "symbols",
	"Topics":                        "topics",
	"Streams":                       "stream",
	"WSURL":                         "ws-url",
	"RESTURL":                       "rest-url",
	"CAFile":                        "ca-file",
	"Admin":                         "admin",
	"AdminPublic":                   "admin-public",
	"Processors":                    "processors",
	"Pin":                           "pin",
	"CPUs":                          "cpus",
	"Wait":                          "wait",
	"Isolate":                       "isolate",
	"NoLend":                        "no-lend",
	"RingSize":                      "ring-size",
	"RingFullWait":                  "ring-full-wait",
	"SymbolsPerConn":                "symbols-per-conn",
	"ConnectLimit":                  "connect-limit",
	"Session.Dial.IdleTimeout":      "idle-timeout",
	"Session.PingInterval":          "ping-interval",
	"Session.PongTimeout":           "pong-timeout",
	"Session.Dial.DialTimeout":      "dial-timeout",
	"Session.Dial.HandshakeTimeout": "handshake-timeout",
	"Session.Dial.WriteTimeout":     "write-timeout",
	"Session.Dial.MaxMessageSize":   "max-message",
	"Session.BackoffBase":           "backoff-base",
	"Session.BackoffCap":            "backoff-cap",
	"Probe.ConnectTimeout":          "probe-connect-timeout",
	"Probe.Timeout":                 "probe-timeout",
	"HookBudget":                    "hook-budget",
	"GapPolicy":                     "gap-policy",
	"KlineWindow":                   "kline-window",
	"TradeTape":                     "trade-tape",
	"NoKlineHistory":                "kline-history",
	"Record":                        "record",
	"Shard":                         "shard",
	"Publish.URL":                   "publish",
	"Publish.Creds":                 "nats-creds",
	"Publish.CA":                    "nats-ca",
	"Publish.RingSize":              "publish-ring",
	"Publish.SnapshotEvery":         "snapshot-every",
}

// fieldOf is flagOf reversed: the Config field a flag sets.
var fieldOf = func() map[string]string {
	m := make(map[string]string, len(flagOf))
	for field, name := range flagOf {
		m[name] = field
	}
	return m
}()

// fieldNames rewrites the Config field names in a library message as
// flags, longest first so "Session.Dial.IdleTimeout" is not read as a
// shorter name.
var fieldNames = func() *strings.Replacer {
	fields := make([]string, 0, len(flagOf))
	for f := range flagOf {
		fields = append(fields, f)
	}
	sort.Slice(fields, func(i, j int) bool { return len(fields[i]) > len(fields[j]) })
	var pairs []string
	for _, f := range fields {
		pairs = append(pairs, f, "--"+flagOf[f])
	}
	return strings.NewReplacer(pairs...)
}()

// cliError turns a library *ringfeed.ConfigError into a usage error in
// flag syntax; other errors pass unchanged.
func cliError(err error) error {
	var ce *ringfeed.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	name, ok := flagOf[ce.Field]
	if !ok {
		return &usageError{ce.Field + ": " + fieldNames.Replace(ce.Msg)}
	}
	return flagErr(name, "%s", fieldNames.Replace(ce.Msg))
}

// rejectZero refuses 0 for a flag whose library field reads 0 as "the
// default": every such flag has a non-zero default here, so a 0 was asked
// for and would silently become something else.
func rejectZero(fs *flag.FlagSet) error {
	for field, name := range flagOf {
		r, ok := ringfeed.Range(field)
		f := fs.Lookup(name)
		if !ok || f == nil {
			continue
		}
		if v := f.Value.String(); v == "0" || v == "0s" {
			return flagErr(name, "0 is not accepted: want a value in %s (default %s)", r, f.DefValue)
		}
	}
	return nil
}

func (o *options) finish() error {
	c := &o.cfg
	for _, s := range o.streams {
		st, err := ringfeed.ParseStream(s)
		if err != nil {
			return flagErr("stream", "%v", err)
		}
		c.Streams = append(c.Streams, st)
	}
	if len(c.Streams) > 0 {
		if c.Category != "" || o.symbols != "" {
			return flagErr("stream", "replaces --category and --symbols: give every category as a --stream")
		}
		o.topics = "" // each stream names its own
	} else if c.Category == "" {
		c.Category = ringfeed.Linear
	}
	c.NoKlineHistory = !o.klineHistory
	o.cfg.Symbols = splitList(o.symbols)
	o.cfg.Topics = splitList(o.topics)
	if err := o.finishPublish(); err != nil {
		return err
	}
	if err := gapPolicy(o.gap, c); err != nil {
		return err
	}
	for _, s := range splitList(o.cpus) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return flagErr("cpus", "%q is not a CPU number", s)
		}
		c.CPUs = append(c.CPUs, n)
	}
	if o.duration < 0 {
		return flagErr("duration", "must not be negative")
	}
	if o.status < 0 {
		return flagErr("status", "must not be negative")
	}
	if err := checkLog(o.logLevel, o.logFormat); err != nil {
		return err
	}
	if o.chaos != "" {
		d, e, ok := strings.Cut(o.chaos, "/")
		sd, err1 := time.ParseDuration(d)
		se, err2 := time.ParseDuration(e)
		if !ok || err1 != nil || err2 != nil || sd <= 0 || se <= sd {
			return flagErr("chaos-hook-stall", "want D/E with 0 < D < E, e.g. 2s/30s; got %q", o.chaos)
		}
		o.stallFor, o.stallEvery = sd, se
	}
	if o.recordRotate != "" {
		if err := parseRotate(o.recordRotate, c); err != nil {
			return err
		}
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping blanks. The
// same seven lines stand in bench/soak/config.go on purpose: each command parses its
// own flags, and neither main package can import the other.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// configLine is one "name = value" setting and its line number.
type configLine struct {
	n           int
	name, value string
}

// readConfigFile reads "name = value" lines; '#' starts a comment. Errors
// name the file and the line.
func readConfigFile(path string) ([]configLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []configLine
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want 'name = value', got %q", path, n, line)
		}
		lines = append(lines, configLine{n, strings.TrimPrefix(strings.TrimSpace(k), "--"), strings.Trim(strings.TrimSpace(v), `"`)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", path, n+1, err)
	}
	return lines, nil
}
