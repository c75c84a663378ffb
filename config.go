package ringfeed

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/net/session"
	"github.com/ringfeed/ringfeed/ring"
)

// Category is a Bybit v5 public stream category; one socket serves exactly
// one category.
type Category string

// The categories Bybit's public WebSocket serves.
const (
	Spot    Category = "spot"
	Linear  Category = "linear"
	Inverse Category = "inverse"
	Option  Category = "option"
)

// Well-known endpoints.
const (
	MainnetWS   = "wss://stream.bybit.com/v5/public/"
	MainnetREST = "https://api.bybit.com"
	TestnetWS   = "wss://stream-testnet.bybit.com/v5/public/"
	TestnetREST = "https://api-testnet.bybit.com"
)

// Config is everything an Engine needs. Category, Symbols and Topics are
// required; the zero value of every other field means its default, which
// lives in one place: the lower layer's constants for the Session and
// Probe settings (net/session, net/wsconn), this package's Default*
// constants for the rest. Validate fills the defaults in.
type Config struct {
	Category Category
	Symbols  []string
	// Topics are topic kinds without the symbol: "orderbook.50",
	// "kline.1", "tickers", "publicTrade".
	Topics []string

	// WSURL is the WebSocket endpoint for Category; empty means Bybit
	// mainnet. "mainnet" and "testnet" are accepted by name.
	WSURL string
	// RESTURL is the REST base for the probe, instruments and kline
	// history; empty means Bybit mainnet.
	RESTURL string
	// CAFile adds the PEM certificate authorities in the file to the
	// system pool for wss and https. New reads it: a missing file or one
	// without a PEM certificate is a *ConfigError. Verification cannot be
	// turned off.
	CAFile string

	// Admin is the admin HTTP listen address (host:port) for /metrics,
	// /healthz, /v1/… and /debug/pprof/. Empty or "off" serves nothing:
	// a library user gets no HTTP server unless asked (the CLI's default
	// is DefaultAdmin).
	Admin string
	// AdminPublic allows an Admin address that is not loopback. The admin
	// server has no authentication and serves pprof (/debug/pprof/cmdline
	// shows the command line), so exposing it is an explicit choice:
	// without AdminPublic such an address is a *ConfigError.
	AdminPublic bool

	// Processors is the number of processor goroutines; 0 means one per
	// spare core, at least one.
	Processors int
	// Pin locks each processor to an OS thread bound to a CPU from CPUs
	// (round robin); off by default.
	Pin  bool
	CPUs []int
	// Wait is how a processor waits on empty rings (ring.Park, the
	// default, or ring.Spin). Park sleeps at once: no core is busy while
	// the feed is idle, and while it sleeps the reader applies what it
	// publishes itself (see NoLend), or wakes it past lending's bounds. Spin runs the processor on a locked OS thread
	// (bound to a CPU from CPUs when given) that busy-polls its rings and
	// never yields: the fastest hand-off, at the cost of one core per
	// processor for as long as the engine runs; Processors must leave at
	// least one P (GOMAXPROCS) for the readers, admin server and GC.
	// README "Wait modes" has the measured latency and CPU cost of each.
	Wait ring.Mode
	// NoLend keeps park mode's readers out of the processor's work. By
	// default a reader that publishes while its processor is parked
	// applies the messages itself (under the processor's ownership flag,
	// one goroutine at a time) instead of waking it: the wake-up was most
	// of the hand-off at Bybit's cadence. Lending is bounded (a small
	// backlog, a share of the wall clock) and off when hooks are
	// registered (they run on the processor goroutine), with Pin, and in
	// spin mode. NoLend gives every message a wake-up instead, for A/B
	// measurements or a reader that must do nothing but read.
	NoLend bool
	// Isolate gives each spinning processor its CPU to itself: while the
	// spinners run, every other thread of the process (readers, admin
	// server, the runtime's) is moved to the CPUs no spinner is bound
	// to, as `taskset` on each of them would, so the kernel never
	// time-shares a spinner's core or lets another thread evict its
	// caches; the threads get their CPUs back when the engine stops. It
	// needs Wait ring.Spin and CPUs (or Pin), on Linux. On a machine with
	// few cores it crowds the readers onto the rest: README "Wait modes"
	// has the measured trade-off.
	Isolate bool

	// RingSize is the slot count of each connection's ring (power of two).
	RingSize int
	// RingFullWait bounds how long a reader waits for room before it drops
	// an event and marks its symbol stale.
	RingFullWait time.Duration
	// SymbolsPerConn caps the symbols sharded onto one connection.
	SymbolsPerConn int
	// ConnectLimit is how many new connections the process may open in
	// any 5 minutes, all its connections together (Bybit allows
	// session.MaxConnects per IP): half of it at once, the rest spread
	// evenly. 0 means session.DefaultConnects.
	ConnectLimit int

	// Session holds every connection's session settings: ping interval
	// and pong timeout, ack timeout, reconnect backoff, resync limits,
	// and in Session.Dial the WebSocket's dial, handshake, write and idle
	// timeouts and message size limit. Zero fields take net/session's and
	// net/wsconn's defaults. The engine sets the per-connection fields
	// (Category, URL, Topics, Symbols, Sink, Tap, Limiter, Probe, Metrics,
	// Labels, Logger, Dial.RootCAFile): leave them zero.
	Session session.Config
	// Probe holds the network probe's timeouts and retries; zero fields
	// take net/session's defaults. Probe.Timeout also bounds each REST
	// request (instruments, kline history). The engine sets URL, RootCAs,
	// Metrics, Labels and Logger: leave them zero.
	Probe session.ProbeConfig

	// HookBudget is how long a user hook may run before the call is
	// counted and logged as over budget.
	HookBudget time.Duration

	GapPolicy book.GapPolicy

	// KlineWindow is the number of candles kept per symbol and interval.
	KlineWindow int
	// TradeTape is the number of trades kept per symbol.
	TradeTape int
	// NoKlineHistory turns off filling kline windows from REST at start
	// and after gaps. History is on by default, in the library and the
	// CLI alike (--kline-history=false turns it off there); without it a
	// window holds only the candles streamed since start.
	NoKlineHistory bool

	// Record, when set, captures every raw frame with its receive time
	// to this file (package capture's format; zstd-compressed when the
	// name ends in ".zst"). The file is flushed at least every second,
	// so a killed process leaves a replayable capture.
	Record string
	// RecordRotateSize and RecordRotateEvery start a new capture file
	// (numbered, see capture.Name) past this size or age; 0 never.
	RecordRotateSize  int64
	RecordRotateEvery time.Duration

	// Shard keeps only this process's part of Symbols (shard.go), so
	// several processes share one list; the zero Shard keeps all.
	Shard Shard

	// Publish fans every update out to NATS (publish.go); off when its
	// URL is empty.
	Publish PublishConfig

	Logger *slog.Logger

	// Streams serves several categories in one process, each with its own
	// symbols and topics (see Stream); Category, Symbols and Topics stay
	// empty then. A custom WSURL is then a base the category is appended
	// to (or whose last segment, a category, it replaces).
	Streams []Stream

	replay  bool             // set by Replay: no sessions, frames come from a capture
	limiter *session.Limiter // shared connect-rate limit of a several-category engine
}

// Defaults of the settings this package owns (the Session and Probe
// defaults are net/session's and net/wsconn's).
const (
	// DefaultAdmin is the CLI's admin address; the library's default is
	// no admin server.
	DefaultAdmin          = "127.0.0.1:9100"
	DefaultRingSize       = 8192
	DefaultRingFullWait   = 2 * time.Millisecond
	DefaultSymbolsPerConn = 50
	DefaultHookBudget     = 50 * time.Microsecond
	DefaultKlineWindow    = 1000
	DefaultTradeTape      = 1000
)

// ConfigError names the Config field that is wrong, as a Go selector
// relative to Config ("RingSize", "Session.PingInterval"); Msg names other
// fields the same way. A front end maps them to its own names (the CLI to
// flags) and exits with status 2.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "ringfeed: Config." + e.Field + ": " + e.Msg }

func cfgErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// IsConfigError reports whether err is a configuration error.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// Validate checks c and fills in the defaults of the fields this package
// owns; Session and Probe keep their zero fields, which their packages
// fill. It never writes into the slices c refers to. The first problem
// found is returned as a *ConfigError.
func (c *Config) Validate() error {
	for _, check := range []func() error{
		c.validateStreams,
		c.validateEndpoints,
		c.validateEngineOwned,
		c.validateLimits,
		c.validateRelations,
		c.validateCPUs,
		c.validateWait,
		c.Publish.validate,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	c.fillDefaults()
	return nil
}

// validateStreams checks what to subscribe: the category, the symbols
// (trimmed into a new slice) and the topic kinds.
func (c *Config) validateStreams() error {
	switch c.Category {
	case Spot, Linear, Inverse, Option:
	case "":
		return cfgErr("Category", "required (spot, linear, inverse or option)")
	default:
		return cfgErr("Category", "unknown category %q (want spot, linear, inverse or option)", c.Category)
	}
	if len(c.Symbols) == 0 {
		return cfgErr("Symbols", "at least one symbol is required")
	}
	syms := make([]string, len(c.Symbols))
	seen := make(map[string]bool, len(c.Symbols))
	for i, s := range c.Symbols {
		s = strings.TrimSpace(s)
		if !validSymbol(s) {
			return cfgErr("Symbols", "invalid symbol %q (A-Z, 0-9 and '-' only, 1..32 characters)", s)
		}
		if seen[s] {
			return cfgErr("Symbols", "symbol %s listed twice", s)
		}
		seen[s] = true
		syms[i] = s
	}
	c.Symbols = syms
	if err := c.applyShard(); err != nil {
		return err
	}
	if len(c.Topics) == 0 {
		return cfgErr("Topics", "at least one topic is required")
	}
	tseen := make(map[string]bool, len(c.Topics))
	for _, t := range c.Topics {
		if err := validTopic(c.Category, t, c.replay); err != nil {
			return cfgErr("Topics", "%v", err)
		}
		if tseen[t] {
			return cfgErr("Topics", "topic %s listed twice", t)
		}
		tseen[t] = true
	}
	return nil
}

// validateEndpoints resolves the WebSocket and REST URLs and checks the
// admin address, which must be loopback unless AdminPublic.
func (c *Config) validateEndpoints() error {
	var err error
	if c.WSURL, err = wsURL(c.WSURL, c.Category); err != nil {
		return cfgErr("WSURL", "%v", err)
	}
	if c.RESTURL, err = restURL(c.RESTURL); err != nil {
		return cfgErr("RESTURL", "%v", err)
	}
	switch c.Admin {
	case "", "off":
		c.Admin = "off"
	default:
		host, _, err := net.SplitHostPort(c.Admin)
		if err != nil {
			return cfgErr("Admin", "want host:port or off: %v", err)
		}
		if !c.AdminPublic && !isLoopback(host) {
			return cfgErr("Admin", "%s is not a loopback address: the admin server has no authentication and serves /debug/pprof (the command line included); set AdminPublic to expose it", c.Admin)
		}
	}
	if c.CAFile != "" && c.Session.Dial.RootCAFile != "" {
		return cfgErr("Session.Dial.RootCAFile", "set by the engine from CAFile; leave it empty")
	}
	return nil
}

// isLoopback reports whether host (an IP or a name) can only be reached
// from this machine. An empty host or an unspecified address (0.0.0.0, ::)
// listens on every interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateEngineOwned rejects the Session and Probe fields the engine sets
// per connection, so a value there is not silently replaced.
func (c *Config) validateEngineOwned() error {
	s, p := &c.Session, &c.Probe
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Session.Category", s.Category != ""},
		{"Session.URL", s.URL != ""},
		{"Session.Topics", s.Topics != nil},
		{"Session.Symbols", s.Symbols != nil},
		{"Session.Sink", s.Sink != nil},
		{"Session.Tap", s.Tap != nil},
		{"Session.Limiter", s.Limiter != nil},
		{"Session.Probe", s.Probe != nil},
		{"Session.Metrics", s.Metrics != nil},
		{"Session.Labels", s.Labels != ""},
		{"Session.Logger", s.Logger != nil},
		{"Session.Dial.RootCAFile", s.Dial.RootCAFile != ""},
		{"Probe.URL", p.URL != ""},
		{"Probe.RootCAs", p.RootCAs != nil},
		{"Probe.Metrics", p.Metrics != nil},
		{"Probe.Labels", p.Labels != ""},
		{"Probe.Logger", p.Logger != nil},
		{"Probe.Client", p.Client != nil},
	} {
		if f.set {
			return cfgErr(f.name, "is set by the engine; leave it zero (see Config.Session and Config.Probe)")
		}
	}
	return nil
}

// A limit is the accepted range of a numeric setting; zero, meaning the
// default, is accepted besides. Values outside it are ones no deployment
// could want (a 1 ns ping interval) or that would exhaust memory.
type limit struct {
	field    string
	min, max int64
	dur      bool // format as a time.Duration
	get      func(c *Config) int64
}

func durLimit(field string, lo, hi time.Duration, get func(c *Config) time.Duration) limit {
	return limit{field, int64(lo), int64(hi), true, func(c *Config) int64 { return int64(get(c)) }}
}

func intLimit(field string, lo, hi int64, get func(c *Config) int64) limit {
	return limit{field, lo, hi, false, get}
}

var limits = []limit{
	intLimit("RingSize", 64, 1<<20, func(c *Config) int64 { return int64(c.RingSize) }),
	durLimit("RingFullWait", time.Microsecond, time.Hour, func(c *Config) time.Duration { return c.RingFullWait }),
	intLimit("SymbolsPerConn", 1, 1000, func(c *Config) int64 { return int64(c.SymbolsPerConn) }),
	intLimit("ConnectLimit", 2, session.MaxConnects, func(c *Config) int64 { return int64(c.ConnectLimit) }),
	durLimit("Session.PingInterval", 100*time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Session.PingInterval }),
	durLimit("Session.PongTimeout", 100*time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Session.PongTimeout }),
	durLimit("Session.AckTimeout", 100*time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Session.AckTimeout }),
	durLimit("Session.BackoffBase", time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Session.BackoffBase }),
	durLimit("Session.BackoffCap", time.Millisecond, time.Hour, func(c *Config) time.Duration { return c.Session.BackoffCap }),
	durLimit("Session.Dial.IdleTimeout", 200*time.Millisecond, time.Hour, func(c *Config) time.Duration { return c.Session.Dial.IdleTimeout }),
	durLimit("Session.Dial.DialTimeout", 100*time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Session.Dial.DialTimeout }),
	durLimit("Session.Dial.HandshakeTimeout", 100*time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Session.Dial.HandshakeTimeout }),
	durLimit("Session.Dial.WriteTimeout", 100*time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Session.Dial.WriteTimeout }),
	intLimit("Session.Dial.MaxMessageSize", 4096, 1<<30, func(c *Config) int64 { return c.Session.Dial.MaxMessageSize }),
	durLimit("Probe.ConnectTimeout", 100*time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Probe.ConnectTimeout }),
	durLimit("Probe.Timeout", 100*time.Millisecond, 10*time.Minute, func(c *Config) time.Duration { return c.Probe.Timeout }),
	durLimit("HookBudget", time.Microsecond, time.Minute, func(c *Config) time.Duration { return c.HookBudget }),
	intLimit("KlineWindow", 1, 100000, func(c *Config) int64 { return int64(c.KlineWindow) }),
	intLimit("TradeTape", 1, 1000000, func(c *Config) int64 { return int64(c.TradeTape) }),
}

func (l limit) format(v int64) string {
	if l.dur {
		return time.Duration(v).String()
	}
	return strconv.FormatInt(v, 10)
}

func (l limit) String() string { return "[" + l.format(l.min) + ", " + l.format(l.max) + "]" }

// Range returns the accepted range of the numeric Config field named as
// in ConfigError.Field (e.g. "[100ms, 10m0s]" for "Session.PingInterval"),
// for front ends that must reject a zero the library would take as the
// default. ok is false for a field without a range.
func Range(field string) (r string, ok bool) {
	for _, l := range limits {
		if l.field == field {
			return l.String(), true
		}
	}
	return "", false
}

// validateLimits checks every numeric setting against its range.
func (c *Config) validateLimits() error {
	if c.Processors < 0 {
		return cfgErr("Processors", "must be ≥ 0, got %d", c.Processors)
	}
	for _, l := range limits {
		v := l.get(c)
		if v != 0 && (v < l.min || v > l.max) {
			return cfgErr(l.field, "%s is out of range %s", l.format(v), l)
		}
	}
	if c.RingSize&(c.RingSize-1) != 0 {
		return cfgErr("RingSize", "must be a power of two in [64, 1048576], got %d", c.RingSize)
	}
	return nil
}

// or returns v, or def when v is zero: the value a zero field will take.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// validateRelations checks settings against each other, with zero fields
// at the default the lower layer will give them.
func (c *Config) validateRelations() error {
	s := &c.Session
	base, bcap := or(s.BackoffBase, session.DefaultBackoffBase), or(s.BackoffCap, session.DefaultBackoffCap)
	if bcap < base {
		return cfgErr("Session.BackoffCap", "%v is below Session.BackoffBase %v", bcap, base)
	}
	idle, ping := or(s.Dial.IdleTimeout, session.DefaultIdleTimeout), or(s.PingInterval, session.DefaultPingInterval)
	if idle <= ping {
		return cfgErr("Session.Dial.IdleTimeout", "%v must exceed Session.PingInterval %v, or a quiet but healthy socket is cut", idle, ping)
	}
	conn, total := or(c.Probe.ConnectTimeout, session.DefaultProbeConnectTimeout), or(c.Probe.Timeout, session.DefaultProbeTimeout)
	if total < conn {
		return cfgErr("Probe.Timeout", "%v is below Probe.ConnectTimeout %v", total, conn)
	}
	return nil
}

func (c *Config) validateCPUs() error {
	for _, cpu := range c.CPUs {
		if cpu < 0 || cpu >= runtime.NumCPU() {
			return cfgErr("CPUs", "CPU %d does not exist (this machine has %d)", cpu, runtime.NumCPU())
		}
	}
	if c.Isolate && (c.Wait != ring.Spin || (len(c.CPUs) == 0 && !c.Pin)) {
		return cfgErr("Isolate", "isolates spinning processors bound to CPUs: it needs Wait spin and CPUs (or Pin)")
	}
	return nil
}

// validateWait checks the wait mode, and that spinning leaves a P for the
// rest of the engine: a spinning processor holds one for good, and the
// readers, the admin server and the GC need at least one more (see
// processor.run for why GOMAXPROCS is not raised instead).
func (c *Config) validateWait() error {
	if c.Wait != ring.Park && c.Wait != ring.Spin {
		return cfgErr("Wait", "unknown wait mode %v (want park or spin)", c.Wait)
	}
	ps := runtime.GOMAXPROCS(0)
	if n := or(c.Processors, max(1, ps-1)); c.Wait == ring.Spin && n >= ps {
		return cfgErr("Wait", "spin holds a core per processor and the readers need one more: %d processors with GOMAXPROCS %d (%d processors or fewer, more CPUs, or park)", n, ps, max(ps-1, 0))
	}
	return nil
}

// fillDefaults sets the zero fields this package owns to their defaults.
func (c *Config) fillDefaults() {
	if c.Processors == 0 {
		c.Processors = max(1, runtime.GOMAXPROCS(0)-1) // a container's CPU limit, not the host's cores
	}
	c.RingSize = or(c.RingSize, DefaultRingSize)
	c.RingFullWait = or(c.RingFullWait, DefaultRingFullWait)
	c.SymbolsPerConn = or(c.SymbolsPerConn, DefaultSymbolsPerConn)
	c.ConnectLimit = or(c.ConnectLimit, session.DefaultConnects)
	c.HookBudget = or(c.HookBudget, DefaultHookBudget)
	c.KlineWindow = or(c.KlineWindow, DefaultKlineWindow)
	c.TradeTape = or(c.TradeTape, DefaultTradeTape)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// restTimeout bounds one REST request (instruments, kline history).
func (c *Config) restTimeout() time.Duration {
	return or(c.Probe.Timeout, session.DefaultProbeTimeout)
}

func validSymbol(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// Depths each category offers on the public stream (docs §6).
var bookDepths = map[Category][]int{
	Spot:    {1, 50, 200, 1000},
	Linear:  {1, 50, 200, 1000},
	Inverse: {1, 50, 200, 1000},
	Option:  {25, 100},
}

// validTopic checks one configured topic kind. A replay accepts any book
// depth: historical files (Bybit's depth-500 downloads) carry depths the
// live stream no longer offers.
func validTopic(cat Category, t string, replay bool) error {
	kind, arg, _ := strings.Cut(t, ".")
	switch kind {
	case "orderbook":
		d, err := strconv.Atoi(arg)
		if err != nil {
			return fmt.Errorf("topic %q: depth %q is not a number", t, arg)
		}
		if replay && d >= 1 && d <= 65535 {
			return nil
		}
		for _, ok := range bookDepths[cat] {
			if d == ok {
				return nil
			}
		}
		return fmt.Errorf("topic %q: depth %d not offered for %s (have %v)", t, d, cat, bookDepths[cat])
	case "kline":
		if cat == Option {
			return fmt.Errorf("topic %q: option has no kline stream", t)
		}
		if _, err := kline.ParseInterval(arg); err == nil {
			return nil
		}
		return fmt.Errorf("topic %q: unknown interval %q (have %s)", t, arg, strings.Join(kline.Codes(), " "))
	case "tickers", "publicTrade":
		if arg != "" {
			return fmt.Errorf("topic %q: %s takes no parameter", t, kind)
		}
		return nil
	}
	return fmt.Errorf("unknown topic %q (want orderbook.N, kline.I, tickers or publicTrade)", t)
}

func wsURL(s string, cat Category) (string, error) {
	switch s {
	case "", "mainnet":
		return MainnetWS + string(cat), nil
	case "testnet":
		return TestnetWS + string(cat), nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "", fmt.Errorf("scheme %q: want ws:// or wss://", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("no host")
	}
	return s, nil
}

func restURL(s string) (string, error) {
	switch s {
	case "", "mainnet":
		return MainnetREST, nil
	case "testnet":
		return TestnetREST, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q: want http:// or https://", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("no host")
	}
	return strings.TrimRight(s, "/"), nil
}
