package session

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// namer builds metric names carrying the configured labels.
type namer struct{ labels string }

// newNamer checks that labels are well-formed Prometheus label pairs.
func newNamer(labels string) (namer, error) {
	if labels != "" {
		if err := metrics.ValidateMetric("x{" + labels + "}"); err != nil {
			return namer{}, fmt.Errorf("labels %q: %v", labels, err)
		}
	}
	return namer{labels}, nil
}

// name returns metric{labels,k1="v1",…}; kv holds label pairs.
func (n namer) name(metric string, kv ...string) string {
	s := metric
	lbl := n.labels
	for i := 0; i+1 < len(kv); i += 2 {
		if lbl != "" {
			lbl += ","
		}
		lbl += kv[i] + `="` + kv[i+1] + `"`
	}
	if lbl != "" {
		s += "{" + lbl + "}"
	}
	return s
}

// check fails if metric with these labels is already in set: the labels
// must tell sessions sharing a set apart.
func (n namer) check(set *metrics.Set, metric string) error {
	name := n.name(metric)
	if slices.Contains(set.ListMetricNames(), name) {
		return fmt.Errorf("metric %s is already registered in the set: use distinct labels per session", name)
	}
	return nil
}

// Label values of connects_total{result}.
const (
	connectOK = iota
	connectDialError
	connectHandshakeError
	connectRefused
	numConnectResults
)

var connectResults = [numConnectResults]string{"ok", "dial_error", "handshake_error", "refused"}

// Label values of resubscribes_total{reason}.
const (
	reasonSilence = iota
	reasonResync
	reasonReconnect
	numReasons
)

var reasonNames = [numReasons]string{"silence", "resync", "reconnect"}

// Label values of messages_ignored_total{reason}: messages that are
// normal traffic but carry nothing the engine serves.
const (
	ignoredUnsubscribed = iota // option trades of strikes not subscribed
	numIgnored
)

var ignoredReasons = [numIgnored]string{"unsubscribed_symbol"}

// parseReasons maps parse's sentinel errors to parse_errors_total{reason}.
var parseReasons = [...]struct {
	err   error
	label string
}{
	{parse.ErrSyntax, "syntax"},
	{parse.ErrMissing, "missing"},
	{parse.ErrType, "type"},
	{parse.ErrRange, "range"},
	{parse.ErrPrecision, "precision"},
	{parse.ErrEmpty, "empty"},
	{parse.ErrSign, "sign"},
	{parse.ErrExponent, "exponent"},
	{parse.ErrScale, "scale"},
	{parse.ErrUnknownTopic, "unknown_topic"},
	{parse.ErrUnknownSymbol, "unknown_symbol"},
	{parse.ErrMismatch, "mismatch"},
	{parse.ErrUTF8, "utf8"},
	{parse.ErrTooMany, "too_many"},
	{nil, "other"},
}

// reasonIndex returns the parseReasons index of err. Off the hot path (bad
// input only); errors.Is does not allocate.
func reasonIndex(err error) int {
	for i, r := range parseReasons[:len(parseReasons)-1] {
		if errors.Is(err, r.err) {
			return i
		}
	}
	return len(parseReasons) - 1
}

// msgKinds labels messages_total{kind}: parse.Kind for data, then op.
var msgKinds = [...]string{"none", "book", "kline", "ticker", "trade", "op"}

const kindOp = numKinds // messages_total index of op messages

// sessionMetrics are the session's counters. Counters bumped by the reader
// per message are VictoriaMetrics counters (one atomic add); figures that
// wsconn already counts are exported through gauge callbacks, so the read
// path does not count them twice.
type sessionMetrics struct {
	reconnectAttempts *metrics.Counter
	connects          [numConnectResults]*metrics.Counter
	subscribeFailures *metrics.Counter
	resubscribes      [numReasons]*metrics.Counter
	pingsSent         *metrics.Counter
	pongs             *metrics.Counter
	parseErrors       [len(parseReasons)]*metrics.Counter
	ignored           [numIgnored]*metrics.Counter
	messages          [len(msgKinds)]*metrics.Counter
	unknownOps        *metrics.Counter
	noRoom            *metrics.Counter

	// ws sums the wsconn counters of finished connections; cur is the
	// live one. Read by scrapes, written per connection: cold.
	wsMu sync.Mutex
	ws   wsconn.Stats
	cur  *wsconn.Conn
	// wsCounters mirror figures wsconn counts itself; SyncMetrics copies
	// them in before a scrape.
	wsCounters []wsCounter
}

// wsCounter is a counter whose value wsconn keeps. VictoriaMetrics/metrics
// has no callback counter, and a callback gauge would be exposed with
// TYPE gauge, so the value is copied in before each scrape instead.
type wsCounter struct {
	c *metrics.Counter
	f func(st *wsconn.Stats) int64
}

func (m *sessionMetrics) wsCounter(set *metrics.Set, name string, f func(st *wsconn.Stats) int64) {
	m.wsCounters = append(m.wsCounters, wsCounter{set.NewCounter(name), f})
}

// sync copies the wsconn figures into their counters.
func (m *sessionMetrics) sync() {
	st := m.wsStats()
	for _, w := range m.wsCounters {
		w.c.Set(uint64(max(w.f(&st), 0)))
	}
}

func newSessionMetrics(set *metrics.Set, n namer, s *Session) (*sessionMetrics, error) {
	if err := n.check(set, "ringfeed_connection_up"); err != nil {
		return nil, fmt.Errorf("session: Config.Labels: %w", err)
	}
	m := &sessionMetrics{
		reconnectAttempts: set.NewCounter(n.name("ringfeed_reconnect_attempts_total")),
		subscribeFailures: set.NewCounter(n.name("ringfeed_subscribe_failures_total")),
		pingsSent:         set.NewCounter(n.name("ringfeed_pings_sent_total")),
		pongs:             set.NewCounter(n.name("ringfeed_pongs_total")),
		unknownOps:        set.NewCounter(n.name("ringfeed_unknown_ops_total")),
		noRoom:            set.NewCounter(n.name("ringfeed_messages_dropped_total")),
	}
	for i, r := range connectResults {
		m.connects[i] = set.NewCounter(n.name("ringfeed_connects_total", "result", r))
	}
	for i, r := range reasonNames {
		m.resubscribes[i] = set.NewCounter(n.name("ringfeed_resubscribes_total", "reason", r))
	}
	for i, r := range parseReasons {
		m.parseErrors[i] = set.NewCounter(n.name("ringfeed_parse_errors_total", "reason", r.label))
	}
	for i, r := range ignoredReasons {
		m.ignored[i] = set.NewCounter(n.name("ringfeed_messages_ignored_total", "reason", r))
	}
	for i, k := range msgKinds {
		if k == "none" {
			continue
		}
		m.messages[i] = set.NewCounter(n.name("ringfeed_messages_total", "kind", k))
	}
	set.NewGauge(n.name("ringfeed_connection_up"), func() float64 {
		if s.connected.Load() {
			return 1
		}
		return 0
	})
	set.NewGauge(n.name("ringfeed_pong_rtt_seconds"), func() float64 {
		return time.Duration(s.rttNs.Load()).Seconds()
	})
	for _, g := range []struct {
		op string
		f  func(st *wsconn.Stats) int64
	}{
		{"text", func(st *wsconn.Stats) int64 { return st.TextFrames }},
		{"binary", func(st *wsconn.Stats) int64 { return st.BinaryFrames }},
		{"continuation", func(st *wsconn.Stats) int64 { return st.ContinuationFrames }},
		{"ping", func(st *wsconn.Stats) int64 { return st.PingFrames }},
		{"pong", func(st *wsconn.Stats) int64 { return st.PongFrames }},
		{"close", func(st *wsconn.Stats) int64 { return st.CloseFrames }},
	} {
		m.wsCounter(set, n.name("ringfeed_frames_total", "opcode", g.op), g.f)
	}
	m.wsCounter(set, n.name("ringfeed_bytes_total"), func(st *wsconn.Stats) int64 {
		return st.TextBytes + st.BinaryBytes + st.ContinuationBytes + st.PingBytes + st.PongBytes + st.CloseBytes
	})
	m.wsCounter(set, n.name("ringfeed_oversize_total"), func(st *wsconn.Stats) int64 { return st.Oversize })
	m.wsCounter(set, n.name("ringfeed_protocol_errors_total"), func(st *wsconn.Stats) int64 { return st.ProtocolErrors })
	return m, nil
}

// wsStats returns the wsconn counters over every connection so far.
func (m *sessionMetrics) wsStats() wsconn.Stats {
	m.wsMu.Lock()
	defer m.wsMu.Unlock()
	st := m.ws
	if m.cur != nil {
		addStats(&st, m.cur.Stats())
	}
	return st
}

// setConn makes c the live connection; nil retires the current one, whose
// final counters join the totals.
func (m *sessionMetrics) setConn(c *wsconn.Conn) {
	m.wsMu.Lock()
	defer m.wsMu.Unlock()
	if m.cur != nil {
		addStats(&m.ws, m.cur.Stats())
	}
	m.cur = c
}

func addStats(a *wsconn.Stats, b wsconn.Stats) {
	a.Messages += b.Messages
	a.TextMessages += b.TextMessages
	a.BinaryMessages += b.BinaryMessages
	a.TextFrames += b.TextFrames
	a.BinaryFrames += b.BinaryFrames
	a.ContinuationFrames += b.ContinuationFrames
	a.PingFrames += b.PingFrames
	a.PongFrames += b.PongFrames
	a.CloseFrames += b.CloseFrames
	a.TextBytes += b.TextBytes
	a.BinaryBytes += b.BinaryBytes
	a.ContinuationBytes += b.ContinuationBytes
	a.PingBytes += b.PingBytes
	a.PongBytes += b.PongBytes
	a.CloseBytes += b.CloseBytes
	a.PongsSent += b.PongsSent
	a.ClosesSent += b.ClosesSent
	a.TextSent += b.TextSent
	a.TextBytesSent += b.TextBytesSent
	a.ProtocolErrors += b.ProtocolErrors
	a.Oversize += b.Oversize
}
