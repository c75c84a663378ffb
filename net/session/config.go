package session

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// Sink is where the reader puts parsed events; the engine implements it over
// its ring. Every method is called on the session's reader goroutine only.
type Sink interface {
	// Next returns a slot for the parser to fill, or nil when there is no
	// room (the engine applies its bounded wait and drop policy inside).
	parse.Sink
	// Commit: the message just parsed is complete; its events stay
	// reserved until Flush.
	Commit()
	// Abort: parsing stopped midway (a parse error or parse.ErrNoRoom).
	// The engine rolls back this message's unpublished events and marks
	// res's symbol or stream stale. res is valid only during the call.
	Abort(res parse.Result, err error)
	// Silent: the stream of res (Class, Kind, Sym, and Depth or Interval
	// as for a data message) went silent past its threshold and is being
	// resubscribed. The engine marks it stale until fresh data arrives
	// (a snapshot for a book). Called between messages, never inside one;
	// res is valid only during the call.
	Silent(res parse.Result)
	// Flush publishes everything committed. The reader calls it after
	// the first data message of each socket read (a parked processor
	// starts waking while the rest are parsed), after every flushEvery
	// (4) messages committed since, and whenever the connection has no
	// complete message left buffered (wsconn's Conn.Buffered): so events
	// are never held back while the socket is quiet, and a busy read
	// costs one publish per few messages, not one per message. The
	// engine's Flush may also apply what it publishes when its processor
	// is asleep (bounded to microseconds); it never blocks.
	Flush()
	// Reset: a (re)connection was established, before any of its data:
	// every book of this connection is stale until its snapshot.
	Reset()
}

// Defaults for zero Config fields.
const (
	DefaultPingInterval    = 20 * time.Second
	DefaultPongTimeout     = 10 * time.Second
	DefaultAckTimeout      = 10 * time.Second
	DefaultIdleTimeout     = 30 * time.Second
	DefaultBackoffBase     = 500 * time.Millisecond
	DefaultBackoffCap      = 30 * time.Second
	DefaultHealthyAfter    = 30 * time.Second
	DefaultResyncInterval  = time.Second
	DefaultResyncPerSecond = 20
	DefaultArgsPerRequest  = 10
	DefaultProbeAfter      = 3

	// MaxSpotArgs is Bybit's limit of args per spot request; a request
	// with more is rejected as a whole ("args size >10").
	MaxSpotArgs = 10
	// MaxArgsChars is Bybit's limit on the total length of the args of one
	// public connection. Topics are counted as they appear on the wire,
	// with their quotes and a separating comma, because Bybit does not say
	// what it counts: this errs on the safe side.
	MaxArgsChars = 21000
)

// Config configures a Session. Category, URL, Topics, Symbols and Sink are
// required; every other zero field takes its default.
type Config struct {
	// Category is spot, linear, inverse or option.
	Category string
	// URL is the WebSocket endpoint, ws(s)://…/v5/public/{category}.
	URL string
	// Topics are full topic strings for this connection, e.g.
	// "orderbook.50.BTCUSDT", "kline.1.BTCUSDT", "publicTrade.BTC" (option
	// trades are per base coin). Each symbol must be registered in Symbols
	// (for option trades: at least one symbol of that base coin).
	Topics []string
	// Symbols resolves symbol names; register every symbol before New.
	Symbols *parse.Symbols
	// Sink receives the parsed events.
	Sink Sink
	// ParserOptions are passed to parse.NewParser.
	ParserOptions []parse.Option
	// Tap, if not nil, sees every message (text and binary) before it is
	// parsed, on the reader goroutine: p is valid only during the call and
	// must be copied to be kept. It must not block (a capture writer hands
	// the bytes to its own goroutine).
	Tap func(p []byte, recvNs int64)

	// Dial configures the WebSocket connection. A zero IdleTimeout becomes
	// DefaultIdleTimeout (wsconn's zero would mean none): no frame at all
	// for that long declares the connection dead. It must exceed
	// PingInterval, since pongs alone keep a quiet connection alive.
	Dial wsconn.Options

	// PingInterval is the period of {"op":"ping"} (default 20 s, Bybit's
	// advice); PongTimeout how long a pong may take before the connection
	// is declared dead (default 10 s).
	PingInterval, PongTimeout time.Duration
	// AckTimeout bounds the wait for a subscribe or unsubscribe ack; a
	// request not acked in time counts as failed (default 10 s).
	AckTimeout time.Duration

	// Reconnect backoff, full jitter: before attempt n the session sleeps
	// rand[0, min(BackoffCap, BackoffBase·2^n)). n returns to 0 once a
	// connection that received messages (data or pongs) has lasted
	// HealthyAfter. Defaults 500 ms, 30 s, 30 s.
	BackoffBase, BackoffCap, HealthyAfter time.Duration
	// Limiter bounds the connect rate of every session sharing it; nil
	// means the process-wide DefaultLimiter.
	Limiter *Limiter
	// Probe, if not nil, is triggered (asynchronously, single-flight) after
	// ProbeAfter consecutive failed connection attempts (default 3).
	Probe      *Probe
	ProbeAfter int

	// Silence returns the silence threshold of a topic: a topic without a
	// message for that long on a live connection is resubscribed alone.
	// 0 disables the check. nil means DefaultSilence.
	Silence func(topic string) time.Duration

	// ResyncInterval is the minimum time between two resubscribes of the
	// same topic (default 1 s); ResyncPerSecond caps resubscribes (resync
	// and silence) across all topics (default 20).
	ResyncInterval  time.Duration
	ResyncPerSecond int
	// ArgsPerRequest is the number of topics per subscribe request
	// (default 10; at most 10 on spot, where more rejects the request).
	ArgsPerRequest int

	// Metrics receives the session's metrics; nil means a private set.
	// Labels (e.g. `conn="0",category="linear"`) are added to every metric
	// and must make the names unique within the set.
	Metrics *metrics.Set
	Labels  string
	// Logger; nil discards.
	Logger *slog.Logger
}

// DefaultSilence is the default per-topic silence threshold: orderbook.1
// 10 s (Bybit re-sends its snapshot at least every 3 s), other books 30 s,
// tickers 60 s, kline 150 s, publicTrade 0 (illiquid symbols trade rarely).
func DefaultSilence(topic string) time.Duration {
	switch {
	case strings.HasPrefix(topic, "orderbook.1."):
		return 10 * time.Second
	case strings.HasPrefix(topic, "orderbook."):
		return 30 * time.Second
	case strings.HasPrefix(topic, "tickers."):
		return 60 * time.Second
	case strings.HasPrefix(topic, "kline."):
		return 150 * time.Second
	}
	return 0
}

// withDefaults validates c and fills in its defaults. Errors name the field.
func (c Config) withDefaults() (Config, error) {
	switch c.Category {
	case "spot", "linear", "inverse", "option":
	default:
		return c, fmt.Errorf("session: Config.Category %q: want spot, linear, inverse or option", c.Category)
	}
	if !strings.HasPrefix(c.URL, "ws://") && !strings.HasPrefix(c.URL, "wss://") {
		return c, fmt.Errorf("session: Config.URL %q: want ws:// or wss://", c.URL)
	}
	if len(c.Topics) == 0 {
		return c, fmt.Errorf("session: Config.Topics is empty")
	}
	if c.Symbols == nil {
		return c, fmt.Errorf("session: Config.Symbols is nil")
	}
	if c.Sink == nil {
		return c, fmt.Errorf("session: Config.Sink is nil")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"PingInterval", &c.PingInterval, DefaultPingInterval},
		{"PongTimeout", &c.PongTimeout, DefaultPongTimeout},
		{"AckTimeout", &c.AckTimeout, DefaultAckTimeout},
		{"BackoffBase", &c.BackoffBase, DefaultBackoffBase},
		{"BackoffCap", &c.BackoffCap, DefaultBackoffCap},
		{"HealthyAfter", &c.HealthyAfter, DefaultHealthyAfter},
		{"ResyncInterval", &c.ResyncInterval, DefaultResyncInterval},
		{"Dial.IdleTimeout", &c.Dial.IdleTimeout, DefaultIdleTimeout},
	} {
		if *d.v < 0 {
			return c, fmt.Errorf("session: Config.%s %v is negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.BackoffCap < c.BackoffBase {
		return c, fmt.Errorf("session: Config.BackoffCap %v is below BackoffBase %v", c.BackoffCap, c.BackoffBase)
	}
	if c.Dial.IdleTimeout <= c.PingInterval {
		return c, fmt.Errorf("session: Config.Dial.IdleTimeout %v must exceed PingInterval %v", c.Dial.IdleTimeout, c.PingInterval)
	}
	for _, n := range []struct {
		name string
		v    *int
		def  int
	}{
		{"ResyncPerSecond", &c.ResyncPerSecond, DefaultResyncPerSecond},
		{"ArgsPerRequest", &c.ArgsPerRequest, DefaultArgsPerRequest},
		{"ProbeAfter", &c.ProbeAfter, DefaultProbeAfter},
	} {
		if *n.v < 0 {
			return c, fmt.Errorf("session: Config.%s %d is negative", n.name, *n.v)
		}
		if *n.v == 0 {
			*n.v = n.def
		}
	}
	if c.Category == "spot" && c.ArgsPerRequest > MaxSpotArgs {
		return c, fmt.Errorf("session: Config.ArgsPerRequest %d: spot rejects a request with more than %d args as a whole", c.ArgsPerRequest, MaxSpotArgs)
	}
	if c.Silence == nil {
		c.Silence = DefaultSilence
	}
	if c.Limiter == nil {
		c.Limiter = DefaultLimiter
	}
	if c.Metrics == nil {
		c.Metrics = metrics.NewSet()
	}
	if _, err := newNamer(c.Labels); err != nil {
		return c, fmt.Errorf("session: Config.Labels: %w", err)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
