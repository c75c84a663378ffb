package session

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringfeed/ringfeed/net/rest"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// ErrRunning is returned by Run when the session is already running.
var ErrRunning = errors.New("session: already running")

// Session is the Bybit v5 public session of one connection. Create it with
// New and call Run once; the other methods are safe for concurrent use from
// any goroutine at any time.
type Session struct {
	cfg Config
	tt  *topicTable
	m   *sessionMetrics
	log *slog.Logger
	rd  *reader

	// Written by the reader goroutine per message, read by the control
	// goroutine a few times a second: on a line of its own so that writes
	// elsewhere (pings, Stats readers) do not bounce it.
	_        [64]byte
	seen     []atomic.Int64 // per topic: Nanotime of its last data message
	lastRecv atomic.Int64   // Nanotime of the last message of any kind
	_        [64]byte

	// Heartbeat: the control goroutine sends pings, the reader matches
	// pongs.
	pingSeq    atomic.Int64 // number of the last ping sent
	pingSentNs atomic.Int64 // Nanotime it was sent; 0 when answered
	rttNs      atomic.Int64 // last pong round trip
	lastPongNs atomic.Int64

	// Acks, from the reader to the control goroutine. Acks are rare, so a
	// mutex held for an append is fine; the reader never waits otherwise.
	ackMu sync.Mutex
	acks  []ack
	ackCh chan struct{} // capacity 1: "acks queued"

	// Resync requests, from processors to the control goroutine.
	resyncFlag []atomic.Bool
	resyncCh   chan struct{} // capacity 1

	// Per-topic liveness, published for TopicState. up: acked on the
	// current connection (written by the control goroutine). silent: the
	// control goroutine found the topic silent; the reader clears it when
	// the topic's data arrives. silentReq/silentAny: silences the reader
	// has yet to pass to Sink.Silent.
	up        []atomic.Bool
	silent    []atomic.Bool
	silentReq []atomic.Bool
	silentAny atomic.Bool

	reqSeq int64 // request numbers; used by one control goroutine at a time

	running     atomic.Bool
	connected   atomic.Bool
	sinceNs     atomic.Int64 // unix ns the current connection was established
	attempts    atomic.Int64
	connections atomic.Int64
	resyncs     atomic.Int64
	silences    atomic.Int64
	subscribed  atomic.Int64 // topics acked on the current connection
	pingsSent   atomic.Int64
}

// ack is a subscribe/unsubscribe answer copied out of the parser's memory.
type ack struct {
	op   parse.Op
	num  int64 // request number from req_id; -1 when absent or foreign
	ok   bool
	msg  string
	succ []int // COMMAND_RESP topics
	fail []int
}

// New validates cfg and returns a session. Errors name the bad field. It
// registers the session's metrics in cfg.Metrics.
func New(cfg Config) (*Session, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// Copy what the session keeps, so the caller may reuse its slices.
	cfg.Topics = append([]string(nil), cfg.Topics...)
	tt, err := newTopicTable(cfg.Category, cfg.Topics, cfg.Symbols, cfg.Silence)
	if err != nil {
		return nil, err
	}
	s := &Session{
		cfg:        cfg,
		tt:         tt,
		log:        cfg.Logger,
		seen:       make([]atomic.Int64, len(cfg.Topics)),
		resyncFlag: make([]atomic.Bool, len(cfg.Topics)),
		up:         make([]atomic.Bool, len(cfg.Topics)),
		silent:     make([]atomic.Bool, len(cfg.Topics)),
		silentReq:  make([]atomic.Bool, len(cfg.Topics)),
		ackCh:      make(chan struct{}, 1),
		resyncCh:   make(chan struct{}, 1),
	}
	names, _ := newNamer(cfg.Labels) // checked by withDefaults
	s.m, err = newSessionMetrics(cfg.Metrics, names, s)
	if err != nil {
		return nil, err
	}
	s.rd = &reader{
		s:      s,
		parser: parse.NewParser(cfg.Symbols, cfg.ParserOptions...),
		sink:   cfg.Sink,
		psink:  cfg.Sink,
		tt:     tt,
		m:      s.m,
		tap:    cfg.Tap,

		seenStored: make([]int64, len(cfg.Topics)),
	}
	return s, nil
}

// NumTopics returns the number of topics; topic indexes are 0 … NumTopics-1
// in the order of Config.Topics.
func (s *Session) NumTopics() int { return len(s.tt.names) }

// Topic returns the topic string of index i ("" if out of range).
func (s *Session) Topic(i int) string {
	if uint(i) >= uint(len(s.tt.names)) {
		return ""
	}
	return s.tt.names[i]
}

// TopicIndex returns the index of the topic that carries messages of kind
// for symbol sym; param is the book depth for parse.KindBook, the
// parse.Interval for parse.KindKline, and 0 otherwise. An option trade maps
// to its base coin's topic. It does not allocate; processors call it to name
// the topic of a stale book.
func (s *Session) TopicIndex(kind parse.Kind, sym uint32, param int) (int, bool) {
	i := s.tt.lookup(kind, param, sym)
	return i, i >= 0
}

// TopicIndexOf returns the index of a topic string.
func (s *Session) TopicIndexOf(topic string) (int, bool) {
	i, ok := s.tt.index[topic]
	return i, ok
}

// Resync asks for topic to be resubscribed alone (unsubscribe, then
// subscribe) on the current connection, so that Bybit sends a fresh
// snapshot; the other topics are not touched. It never blocks and does not
// allocate: it sets a flag and nudges the control goroutine. It returns
// false if a resync of topic is already pending or topic is not one of this
// session's. The control goroutine performs it at most once per
// ResyncInterval per topic and ResyncPerSecond overall. A request for a
// topic whose subscribe is in flight (after a (re)connect, a failed
// subscribe's retry, or a resync under way) is dropped: the snapshot it asks
// for is already coming. A caller that still finds the book stale later
// asks again.
func (s *Session) Resync(topic string) bool {
	i, ok := s.tt.index[topic]
	return ok && s.ResyncIndex(i)
}

// ResyncIndex is Resync by topic index (see TopicIndex).
func (s *Session) ResyncIndex(i int) bool {
	if uint(i) >= uint(len(s.resyncFlag)) {
		return false
	}
	if !s.resyncFlag[i].CompareAndSwap(false, true) {
		return false
	}
	select {
	case s.resyncCh <- struct{}{}:
	default:
	}
	return true
}

// Connected reports whether a connection is up.
func (s *Session) Connected() bool { return s.connected.Load() }

// TopicState is the liveness of one topic on the current connection.
type TopicState struct {
	// Subscribed: a connection is up and Bybit acked the topic on it.
	// False before the ack, while a failed subscribe waits for its retry,
	// during a resubscribe, and while no connection is up.
	Subscribed bool
	// Silent: no message of the topic for longer than its silence
	// threshold while the connection carried others; set until its next
	// message. The session resubscribes a silent topic, and the sink was
	// told (Sink.Silent) to treat its stream as stale.
	Silent bool
}

// TopicState reports topic i's state (the zero TopicState if i is out of
// range). It never blocks and does not allocate; /healthz reads it.
func (s *Session) TopicState(i int) TopicState {
	if uint(i) >= uint(len(s.up)) {
		return TopicState{}
	}
	return TopicState{Subscribed: s.up[i].Load(), Silent: s.silent[i].Load()}
}

// Stats is a snapshot of a session's counters.
type Stats struct {
	Connected      bool
	ConnectedSince time.Time // zero when not connected
	// Attempts counts connection attempts (the first included);
	// Connections the successful ones; Reconnects = Connections − 1.
	Attempts, Connections, Reconnects int64
	// Subscribed is the number of topics acked on the current connection.
	Subscribed int
	// Resyncs and Silences count resubscribes for Resync requests and for
	// silent topics; SubscribeFailures failed subscribe requests.
	Resyncs, Silences, SubscribeFailures int64
	PingsSent, Pongs                     int64
	PongRTT                              time.Duration // last pong round trip
	ParseErrors, UnknownOps, Dropped     int64         // Dropped: sink had no room
}

// SyncMetrics brings the counters wsconn keeps (frames, bytes, oversize,
// protocol errors) up to date in Config.Metrics. Call it before writing the
// set: they are exported as counters, which VictoriaMetrics/metrics cannot
// compute on scrape. Safe for concurrent use.
func (s *Session) SyncMetrics() { s.m.sync() }

// Stats returns a snapshot of the session's counters. Safe for concurrent
// use.
func (s *Session) Stats() Stats {
	st := Stats{
		Connected:         s.connected.Load(),
		Attempts:          s.attempts.Load(),
		Connections:       s.connections.Load(),
		Subscribed:        int(s.subscribed.Load()),
		Resyncs:           s.resyncs.Load(),
		Silences:          s.silences.Load(),
		SubscribeFailures: int64(s.m.subscribeFailures.Get()),
		PingsSent:         s.pingsSent.Load(),
		Pongs:             int64(s.m.pongs.Get()),
		PongRTT:           time.Duration(s.rttNs.Load()),
		UnknownOps:        int64(s.m.unknownOps.Get()),
		Dropped:           int64(s.m.noRoom.Get()),
	}
	for _, c := range s.m.parseErrors {
		st.ParseErrors += int64(c.Get())
	}
	if st.Connections > 0 {
		st.Reconnects = st.Connections - 1
	}
	if ns := s.sinceNs.Load(); st.Connected && ns != 0 {
		st.ConnectedSince = time.Unix(0, ns)
	}
	return st
}

// Run connects, subscribes and reads until ctx ends: the session's one
// retry loop. The calling goroutine becomes the connection's reader; Run
// starts one control goroutine per connection (subscriptions, heartbeat,
// liveness, resync) and joins it before reconnecting or returning. When ctx
// ends, Run sends a close frame, closes the socket, and returns ctx's
// error. It returns ErrRunning if the session is already running.
func (s *Session) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	var (
		attempt  int  // backoff exponent
		failures int  // consecutive failed attempts, for the probe
		outage   bool // a failure was logged and no data has flowed since
	)
	for {
		if err := s.cfg.Limiter.Wait(ctx); err != nil {
			return ctx.Err()
		}
		if s.attempts.Add(1) > 1 {
			s.m.reconnectAttempts.Inc()
		}
		conn, err := wsconn.Dial(ctx, s.cfg.URL, s.cfg.Dial)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.m.connects[connectResult(err)].Inc()
			s.logFailure(&outage, "session: connect failed; retrying with backoff", "err", err, "attempt", attempt+1)
		} else {
			s.m.connects[connectOK].Inc()
			s.log.Debug("session: connected", "url", s.cfg.URL, "attempt", attempt+1)
			res := s.serve(ctx, conn)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if res.healthy {
				attempt = 0
			}
			if res.data {
				failures = 0
				outage = false
			}
			s.logFailure(&outage, "session: connection lost; reconnecting", "err", res.err, "up", res.up.Round(time.Millisecond), "messages", res.messages)
			if res.data {
				// The connection worked: not a failed attempt.
				if err := rest.Sleep(ctx, backoff(s.cfg.BackoffBase, s.cfg.BackoffCap, attempt)); err != nil {
					return ctx.Err()
				}
				attempt++
				continue
			}
		}
		failures++
		if s.cfg.Probe != nil && failures%s.cfg.ProbeAfter == 0 {
			// In its own goroutine: the retry loop never waits on it.
			s.cfg.Probe.Trigger()
		}
		if err := rest.Sleep(ctx, backoff(s.cfg.BackoffBase, s.cfg.BackoffCap, attempt)); err != nil {
			return ctx.Err()
		}
		attempt++
	}
}

// logFailure logs a connection failure once per outage: a warning for the
// first, debug lines for the rest until data flows again.
func (s *Session) logFailure(outage *bool, msg string, args ...any) {
	args = append(args, "url", s.cfg.URL)
	if *outage {
		s.log.Debug(msg, args...)
		return
	}
	*outage = true
	s.log.Warn(msg, args...)
}

// connectResult classifies a Dial error for connects_total{result}.
func connectResult(err error) int {
	if _, ok := errors.AsType[*wsconn.StatusError](err); ok {
		return connectRefused
	}
	if errors.Is(err, wsconn.ErrDialTimeout) {
		return connectDialError
	}
	if errors.Is(err, wsconn.ErrHandshakeTimeout) {
		return connectHandshakeError
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "dial" {
		return connectDialError
	}
	return connectHandshakeError
}

// served describes how a connection ended.
type served struct {
	err      error
	up       time.Duration
	messages int64
	data     bool // at least one data message arrived
	healthy  bool // messages arrived and the connection lasted HealthyAfter
}

// serve runs one connection: Sink.Reset, the control goroutine, and the
// read loop on this goroutine, until the connection fails or ctx ends.
func (s *Session) serve(ctx context.Context, conn *wsconn.Conn) served {
	start := time.Now()
	s.m.setConn(conn)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close(wsconn.CloseNormal, "") })

	// Before any data of this connection is parsed (it may already be
	// buffered: Bybit can push a snapshot right behind the handshake).
	s.cfg.Sink.Reset()
	now := wsconn.Nanotime()
	s.lastRecv.Store(now)
	s.pingSentNs.Store(0)
	s.lastPongNs.Store(0)
	s.subscribed.Store(0)
	for i := range s.resyncFlag {
		s.resyncFlag[i].Store(false) // everything is resubscribed anyway
		// Sink.Reset supersedes pending silence markers; a topic that
		// stays silent on the new connection is found again.
		s.silent[i].Store(false)
		s.silentReq[i].Store(false)
	}
	s.silentAny.Store(false)
	s.ackMu.Lock()
	s.acks = s.acks[:0]
	s.ackMu.Unlock()
	s.rd.dataMsgs, s.rd.msgs = 0, 0
	s.sinceNs.Store(start.UnixNano())
	s.connected.Store(true)
	reconnect := s.connections.Add(1) > 1

	c := newControl(s, conn, reconnect)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { c.run(done) })

	var err error
	var m wsconn.Message
	for {
		if m, err = conn.ReadMessage(); err != nil {
			break
		}
		s.rd.handle(m)
		if !conn.Buffered() {
			s.rd.flush()
		}
	}
	s.rd.flush()
	close(done)
	wg.Wait()
	stop()
	_ = conn.Close(wsconn.CloseNormal, "")
	s.connected.Store(false)
	s.subscribed.Store(0)
	for i := range s.up {
		s.up[i].Store(false)
	}
	s.m.setConn(nil)
	if c.reason != nil {
		err = c.reason // the control goroutine closed it, e.g. pong timeout
	}
	up := time.Since(start)
	return served{
		err:      err,
		up:       up,
		messages: s.rd.dataMsgs,
		data:     s.rd.dataMsgs > 0,
		// A quiet feed that answers pings is healthy too.
		healthy: s.rd.msgs > 0 && up >= s.cfg.HealthyAfter,
	}
}

// pong matches a pong to the outstanding ping (reader goroutine). A pong
// carrying our req_id must name the last ping; spot and option pongs carry
// none and are taken as the answer to the outstanding ping.
func (s *Session) pong(res *parse.Result, recvNs int64) {
	s.m.pongs.Inc()
	sent := s.pingSentNs.Load()
	if sent == 0 {
		return // late or unsolicited
	}
	if n, ok := parseReqNum(res.ReqID, "hb-"); ok && n != s.pingSeq.Load() {
		return // the answer to an older ping
	}
	if s.pingSentNs.CompareAndSwap(sent, 0) {
		s.rttNs.Store(recvNs - sent)
		s.lastPongNs.Store(recvNs)
	}
}

// pushAck copies a subscribe/unsubscribe answer out of the parser's memory
// and queues it for the control goroutine (reader goroutine).
func (s *Session) pushAck(res *parse.Result) {
	a := ack{op: res.Op, num: -1, ok: res.Success, msg: string(res.RetMsg)}
	prefix := "s-"
	if res.Op == parse.OpUnsubscribe {
		prefix = "u-"
	}
	if n, ok := parseReqNum(res.ReqID, prefix); ok {
		a.num = n
	}
	for i := range res.SuccessTopics {
		if t, ok := s.tt.index[string(res.SuccessTopic(i))]; ok {
			a.succ = append(a.succ, t)
		}
	}
	for i := range res.FailTopics {
		if t, ok := s.tt.index[string(res.FailTopic(i))]; ok {
			a.fail = append(a.fail, t)
		}
	}
	s.ackMu.Lock()
	s.acks = append(s.acks, a)
	s.ackMu.Unlock()
	select {
	case s.ackCh <- struct{}{}:
	default:
	}
}
