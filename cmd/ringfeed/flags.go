package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/book"
)

// options are the command line settings beyond ringfeed.Config.
type options struct {
	cfg        ringfeed.Config
	sim        bool
	simRate    string
	simSeed    uint64
	duration   time.Duration
	status     time.Duration
	logLevel   string
	logFormat  string
	config     string
	dump       string
	chaos      string
	topicsSet  bool // --topics given (flag, environment or file)
	stallFor   time.Duration
	stallEvery time.Duration
	speed      string
	gap        string
	symbols    string
	topics     string
	cpus       string
}

// usageError is a bad command line: exit status 2, naming the flag.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func flagErr(name, format string, args ...any) error {
	return &usageError{"--" + name + ": " + fmt.Sprintf(format, args...)}
}

// newFlagSet declares every flag on o. Environment variables
// (RINGFEED_<FLAG>, dashes as underscores) and a config file
// (--config FILE, lines "flag = value") provide defaults; flags win.
func newFlagSet(name string, o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	c := &o.cfg
	fs.StringVar(&o.config, "config", "", "config `file` of 'flag = value' lines (flags and environment win over it)")
	fs.Func("category", "Bybit category: spot, linear, inverse or option (default linear)", func(s string) error {
		c.Category = ringfeed.Category(s)
		return nil
	})
	fs.StringVar(&o.symbols, "symbols", "", "comma-separated symbols, e.g. BTCUSDT,ETHUSDT")
	fs.StringVar(&o.topics, "topics", "orderbook.50,kline.1,tickers,publicTrade", "comma-separated topics: orderbook.{1,50,200,1000}, kline.{interval}, tickers, publicTrade")
	fs.StringVar(&c.WSURL, "ws-url", "", "WebSocket URL (default Bybit mainnet for the category; 'testnet' by name)")
	fs.StringVar(&c.RESTURL, "rest-url", "", "REST base URL (default Bybit mainnet; 'testnet' by name)")
	fs.StringVar(&c.CAFile, "ca-file", "", "extra PEM certificate authority for wss (verification is always on)")
	fs.StringVar(&c.Admin, "admin", ringfeed.DefaultAdmin, "admin HTTP address (/metrics, /debug/pprof/, /v1/..., /healthz), or 'off'")
	fs.IntVar(&c.Processors, "processors", 0, "processor goroutines (0: one per spare core, at least one)")
	fs.BoolVar(&c.Pin, "pin", false, "lock each processor to an OS thread bound to a CPU")
	fs.StringVar(&o.cpus, "cpus", "", "comma-separated CPU list for --pin")
	fs.DurationVar(&c.Spin, "spin", 0, "how long an idle processor busy-polls before parking (0: 50µs default, negative: never spin)")
	fs.IntVar(&c.RingSize, "ring-size", ringfeed.DefaultRingSize, "slots per connection ring (power of two)")
	fs.DurationVar(&c.RingFullWait, "ring-full-wait", ringfeed.DefaultRingFullWait, "how long a reader waits on a full ring before dropping and resyncing")
	fs.IntVar(&c.SymbolsPerConn, "symbols-per-conn", ringfeed.DefaultSymbolsPerConn, "symbols sharded onto one connection")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", ringfeed.DefaultIdleTimeout, "reconnect when no frame arrives for this long")
	fs.DurationVar(&c.PingInterval, "ping-interval", ringfeed.DefaultPingInterval, "application ping interval")
	fs.DurationVar(&c.PongTimeout, "pong-timeout", ringfeed.DefaultPongTimeout, "reconnect when a pong does not arrive within this")
	fs.DurationVar(&c.DialTimeout, "dial-timeout", ringfeed.DefaultDialTimeout, "TCP (and TLS) dial timeout")
	fs.DurationVar(&c.HandshakeTimeout, "handshake-timeout", ringfeed.DefaultHandshake, "WebSocket handshake timeout")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", ringfeed.DefaultWriteTimeout, "bound on each WebSocket write (subscribe, ping, pong)")
	fs.IntVar(&c.MaxMessageSize, "max-message", ringfeed.DefaultMaxMessage, "largest WebSocket message accepted in bytes; larger closes with 1009 and reconnects")
	fs.DurationVar(&c.BackoffBase, "backoff-base", ringfeed.DefaultBackoffBase, "reconnect backoff base (full jitter)")
	fs.DurationVar(&c.BackoffCap, "backoff-cap", ringfeed.DefaultBackoffCap, "reconnect backoff cap")
	fs.IntVar(&c.ConnectLimit, "connect-limit", ringfeed.DefaultConnectLimit, "new connections allowed in any 5 minutes, half at once (Bybit allows 500 per IP)")
	fs.DurationVar(&c.ProbeConnectTimeout, "probe-connect-timeout", ringfeed.DefaultProbeConnect, "network probe connect timeout")
	fs.DurationVar(&c.ProbeTimeout, "probe-timeout", ringfeed.DefaultProbeTimeout, "network probe total timeout")
	fs.DurationVar(&c.HookBudget, "hook-budget", ringfeed.DefaultHookBudget, "user hook time budget; calls over it are counted and logged")
	fs.StringVar(&o.gap, "gap-policy", "strict", "order book update id policy: strict (u steps by 1) or monotonic")
	fs.IntVar(&c.KlineWindow, "kline-window", ringfeed.DefaultKlineWindow, "candles kept per symbol and interval")
	fs.IntVar(&c.TradeTape, "trade-tape", ringfeed.DefaultTradeTape, "trades kept per symbol")
	fs.BoolVar(&c.KlineHistory, "kline-history", true, "fill kline windows from REST at start and after gaps")
	fs.StringVar(&c.Record, "record", "", "capture raw frames with receive times to `file`")
	fs.BoolVar(&o.sim, "sim", false, "run against the embedded Bybit simulator on 127.0.0.1")
	fs.StringVar(&o.simRate, "sim-rate", "mixed", "simulator rate: mixed, N (msgs/s per connection) or max")
	fs.Uint64Var(&o.simSeed, "sim-seed", 1, "simulator seed")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until SIGINT/SIGTERM)")
	fs.DurationVar(&o.status, "status", 2*time.Second, "status line interval (0: off)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.chaos, "chaos-hook-stall", "", "testing only: a book hook that sleeps D once every E, as `D/E` (e.g. 2s/30s), to rehearse a stalled consumer")
	fs.StringVar(&o.dump, "dump", "", "replay: write final books, klines and tickers as JSON to `file`")
	fs.StringVar(&o.speed, "speed", "max", "replay: 'max' or a multiple of real time such as 1 or 10")
	return fs
}

// parseArgs parses args with environment and config-file defaults.
func parseArgs(name string, args []string, env func(string) string, out io.Writer) (*options, []string, error) {
	o := &options{}
	fs := newFlagSet(name, o, out)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, &usageError{err.Error()}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// Environment first, then the config file, each only for flags not
	// given on the command line (the flag wins).
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		key := "RINGFEED_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := env(key); v != "" {
			if err := fs.Set(f.Name, v); err == nil {
				set[f.Name] = true
			}
		}
	})
	if o.config != "" {
		kv, err := readConfigFile(o.config)
		if err != nil {
			return nil, nil, flagErr("config", "%v", err)
		}
		for _, p := range kv {
			if fs.Lookup(p[0]) == nil {
				return nil, nil, flagErr("config", "%s: unknown setting %q", o.config, p[0])
			}
			if set[p[0]] {
				continue
			}
			if err := fs.Set(p[0], p[1]); err != nil {
				return nil, nil, flagErr(p[0], "%v (from %s)", err, o.config)
			}
		}
	}
	o.topicsSet = set["topics"]
	if err := o.finish(); err != nil {
		return nil, nil, err
	}
	return o, fs.Args(), nil
}

func (o *options) finish() error {
	c := &o.cfg
	if c.Category == "" {
		c.Category = ringfeed.Linear
	}
	o.cfg.Symbols = splitList(o.symbols)
	o.cfg.Topics = splitList(o.topics)
	switch o.gap {
	case "strict":
		c.GapPolicy = book.Strict
	case "monotonic":
		c.GapPolicy = book.Monotonic
	default:
		return flagErr("gap-policy", "unknown policy %q (want strict or monotonic)", o.gap)
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
	switch o.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return flagErr("log-level", "unknown level %q", o.logLevel)
	}
	switch o.logFormat {
	case "text", "json":
	default:
		return flagErr("log-format", "unknown format %q (want text or json)", o.logFormat)
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
	if o.speed != "max" {
		if v, err := strconv.ParseFloat(o.speed, 64); err != nil || v <= 0 {
			return flagErr("speed", "want 'max' or a positive number, got %q", o.speed)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readConfigFile reads "name = value" lines; '#' starts a comment.
func readConfigFile(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var kv [][2]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want 'name = value'", n)
		}
		kv = append(kv, [2]string{strings.TrimPrefix(strings.TrimSpace(k), "--"), strings.Trim(strings.TrimSpace(v), `"`)})
	}
	return kv, sc.Err()
}
