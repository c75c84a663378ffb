package ringfeed

import (
	"errors"
	"fmt"
	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/session"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
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

// Config is everything an Engine needs. The zero value of every field but
// Category, Symbols and Topics means "the default"; Validate fills them in.
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
	// CAFile adds a PEM certificate authority to the system pool for wss.
	// Verification cannot be turned off.
	CAFile string

	// Admin is the admin HTTP listen address; "" means 127.0.0.1:9100 and
	// "off" disables the server.
	Admin string

	// Processors is the number of processor goroutines; 0 means one per
	// spare core, at least one.
	Processors int
	// Pin locks each processor to an OS thread bound to a CPU from CPUs
	// (round robin); off by default.
	Pin  bool
	CPUs []int
	// Spin is how long an idle processor busy-polls its rings before it
	// yields and parks. Parking costs the next message a wake-up (tens of
	// microseconds); spinning costs a core. 0 means ring.DefaultSpin; a
	// negative value disables spinning. On machines with two cores or
	// fewer only the first processor spins, and its window stays at Spin;
	// with more cores it stretches to cover a busy feed's gaps (at most
	// 2 ms).
	Spin time.Duration

	// RingSize is the slot count of each connection's ring (power of two).
	RingSize int
	// RingFullWait bounds how long a reader waits for room before it drops
	// an event and marks its symbol stale (DESIGN.md rule 2).
	RingFullWait time.Duration
	// SymbolsPerConn caps the symbols sharded onto one connection.
	SymbolsPerConn int

	IdleTimeout      time.Duration
	PingInterval     time.Duration
	PongTimeout      time.Duration
	DialTimeout      time.Duration
	HandshakeTimeout time.Duration
	WriteTimeout     time.Duration
	MaxMessageSize   int

	BackoffBase time.Duration
	BackoffCap  time.Duration
	// ConnectLimit is how many new connections the process may open in
	// any 5 minutes, all its connections together (Bybit allows 500 per
	// IP): half of it at once, the rest spread evenly. 0 means
	// DefaultConnectLimit.
	ConnectLimit int

	ProbeConnectTimeout time.Duration
	ProbeTimeout        time.Duration

	// HookBudget is how long a user hook may run before the call is
	// counted and logged as over budget.
	HookBudget time.Duration

	GapPolicy book.GapPolicy

	// KlineWindow is the number of candles kept per symbol and interval.
	KlineWindow int
	// TradeTape is the number of trades kept per symbol.
	TradeTape int
	// KlineHistory fills kline windows from REST at start and after gaps.
	// Off by default only when the REST endpoint is unreachable by design
	// (tests); the CLI turns it on.
	KlineHistory bool

	// Record, when set, captures every raw frame with its receive time.
	Record string

	Logger *slog.Logger

	replay bool // set by Replay: no sessions, frames come from a capture
	// silence overrides session.DefaultSilence (tests: thresholds of a
	// second instead of tens).
	silence func(topic string) time.Duration
}

// Defaults, chosen from Bybit's documented behaviour (see
// shared/docs/bybit-v5-public.md): 20 s app pings, idle cut after 2× that.
const (
	DefaultAdmin          = "127.0.0.1:9100"
	DefaultRingSize       = 8192
	DefaultRingFullWait   = 2 * time.Millisecond
	DefaultSymbolsPerConn = 50
	DefaultIdleTimeout    = 30 * time.Second
	DefaultPingInterval   = 20 * time.Second
	DefaultPongTimeout    = 10 * time.Second
	DefaultDialTimeout    = 5 * time.Second
	DefaultHandshake      = 10 * time.Second
	DefaultWriteTimeout   = 5 * time.Second
	DefaultMaxMessage     = 16 << 20
	DefaultBackoffBase    = 500 * time.Millisecond
	DefaultBackoffCap     = 30 * time.Second
	DefaultConnectLimit   = session.DefaultConnects
	DefaultProbeConnect   = 5 * time.Second
	DefaultProbeTimeout   = 10 * time.Second
	DefaultHookBudget     = 50 * time.Microsecond
	DefaultKlineWindow    = 1000
	DefaultTradeTape      = 1000
)

// ConfigError names the setting that is wrong. The CLI maps it to exit
// status 2 and prints Field as the flag name.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "ringfeed: --" + e.Field + ": " + e.Msg }

func cfgErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// IsConfigError reports whether err is a configuration error.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// Validate checks c and fills defaults in place. The first problem found is
// returned as a *ConfigError.
func (c *Config) Validate() error {
	switch c.Category {
	case Spot, Linear, Inverse, Option:
	case "":
		return cfgErr("category", "required (spot, linear, inverse or option)")
	default:
		return cfgErr("category", "unknown category %q (want spot, linear, inverse or option)", c.Category)
	}
	if len(c.Symbols) == 0 {
		return cfgErr("symbols", "at least one symbol is required")
	}
	seen := make(map[string]bool, len(c.Symbols))
	for i, s := range c.Symbols {
		s = strings.TrimSpace(s)
		if !validSymbol(s) {
			return cfgErr("symbols", "invalid symbol %q (A-Z, 0-9 and '-' only, 1..32 characters)", s)
		}
		if seen[s] {
			return cfgErr("symbols", "symbol %s listed twice", s)
		}
		seen[s] = true
		c.Symbols[i] = s
	}
	if len(c.Topics) == 0 {
		return cfgErr("topics", "at least one topic is required")
	}
	tseen := make(map[string]bool, len(c.Topics))
	for _, t := range c.Topics {
		if err := validTopic(c.Category, t); err != nil {
			return cfgErr("topics", "%v", err)
		}
		if tseen[t] {
			return cfgErr("topics", "topic %s listed twice", t)
		}
		tseen[t] = true
	}

	var err error
	if c.WSURL, err = wsURL(c.WSURL, c.Category); err != nil {
		return cfgErr("ws-url", "%v", err)
	}
	if c.RESTURL, err = restURL(c.RESTURL); err != nil {
		return cfgErr("rest-url", "%v", err)
	}
	switch c.Admin {
	case "":
		c.Admin = DefaultAdmin
	case "off":
	default:
		if _, _, err := net.SplitHostPort(c.Admin); err != nil {
			return cfgErr("admin", "want host:port or off: %v", err)
		}
	}

	if c.Processors < 0 {
		return cfgErr("processors", "must be ≥ 0, got %d", c.Processors)
	}
	if c.Processors == 0 {
		c.Processors = max(1, runtime.GOMAXPROCS(0)-1) // a container's CPU limit, not the host's cores
	}
	for _, cpu := range c.CPUs {
		if cpu < 0 || cpu >= runtime.NumCPU() {
			return cfgErr("cpus", "CPU %d does not exist (this machine has %d)", cpu, runtime.NumCPU())
		}
	}
	if c.RingSize == 0 {
		c.RingSize = DefaultRingSize
	}
	if c.RingSize < 64 || c.RingSize&(c.RingSize-1) != 0 || c.RingSize > 1<<20 {
		return cfgErr("ring-size", "must be a power of two in [64, 1048576], got %d", c.RingSize)
	}
	if c.SymbolsPerConn == 0 {
		c.SymbolsPerConn = DefaultSymbolsPerConn
	}
	if c.SymbolsPerConn < 1 {
		return cfgErr("symbols-per-conn", "must be ≥ 1, got %d", c.SymbolsPerConn)
	}
	if c.ConnectLimit == 0 {
		c.ConnectLimit = DefaultConnectLimit
	}
	if c.ConnectLimit < 2 || c.ConnectLimit > session.MaxConnects {
		return cfgErr("connect-limit", "must be in [2, %d] (Bybit allows %d new connections per 5 minutes per IP), got %d", session.MaxConnects, session.MaxConnects, c.ConnectLimit)
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessage
	}
	if c.MaxMessageSize < 4096 {
		return cfgErr("max-message", "must be ≥ 4096 bytes, got %d", c.MaxMessageSize)
	}

	durs := []struct {
		name string
		p    *time.Duration
		def  time.Duration
	}{
		{"ring-full-wait", &c.RingFullWait, DefaultRingFullWait},
		{"idle-timeout", &c.IdleTimeout, DefaultIdleTimeout},
		{"ping-interval", &c.PingInterval, DefaultPingInterval},
		{"pong-timeout", &c.PongTimeout, DefaultPongTimeout},
		{"dial-timeout", &c.DialTimeout, DefaultDialTimeout},
		{"handshake-timeout", &c.HandshakeTimeout, DefaultHandshake},
		{"write-timeout", &c.WriteTimeout, DefaultWriteTimeout},
		{"backoff-base", &c.BackoffBase, DefaultBackoffBase},
		{"backoff-cap", &c.BackoffCap, DefaultBackoffCap},
		{"probe-connect-timeout", &c.ProbeConnectTimeout, DefaultProbeConnect},
		{"probe-timeout", &c.ProbeTimeout, DefaultProbeTimeout},
		{"hook-budget", &c.HookBudget, DefaultHookBudget},
	}
	for _, d := range durs {
		if *d.p < 0 {
			return cfgErr(d.name, "must not be negative, got %v", *d.p)
		}
		if *d.p == 0 {
			*d.p = d.def
		}
	}
	if c.BackoffCap < c.BackoffBase {
		return cfgErr("backoff-cap", "%v is below --backoff-base %v", c.BackoffCap, c.BackoffBase)
	}
	if c.IdleTimeout <= c.PingInterval {
		return cfgErr("idle-timeout", "%v must exceed --ping-interval %v, or a quiet but healthy socket is cut", c.IdleTimeout, c.PingInterval)
	}
	if c.ProbeTimeout < c.ProbeConnectTimeout {
		return cfgErr("probe-timeout", "%v is below --probe-connect-timeout %v", c.ProbeTimeout, c.ProbeConnectTimeout)
	}
	if c.KlineWindow == 0 {
		c.KlineWindow = DefaultKlineWindow
	}
	if c.KlineWindow < 1 || c.KlineWindow > 100000 {
		return cfgErr("kline-window", "must be in [1, 100000], got %d", c.KlineWindow)
	}
	if c.TradeTape == 0 {
		c.TradeTape = DefaultTradeTape
	}
	if c.TradeTape < 1 || c.TradeTape > 1000000 {
		return cfgErr("trade-tape", "must be in [1, 1000000], got %d", c.TradeTape)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
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

var klineIntervals = []string{"1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M"}

func validTopic(cat Category, t string) error {
	kind, arg, _ := strings.Cut(t, ".")
	switch kind {
	case "orderbook":
		d, err := strconv.Atoi(arg)
		if err != nil {
			return fmt.Errorf("topic %q: depth %q is not a number", t, arg)
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
		for _, iv := range klineIntervals {
			if arg == iv {
				return nil
			}
		}
		return fmt.Errorf("topic %q: unknown interval %q (have %s)", t, arg, strings.Join(klineIntervals, " "))
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
