package session

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// Topic states on one connection, owned by the control goroutine.
const (
	stIdle         = iota // not requested yet
	stSubPending          // subscribe sent, no ack yet
	stSubscribed          // acked
	stUnsubPending        // unsubscribe sent (resubscribe in progress)
	stRetry               // subscribe failed; retry at retryAt
)

type topicState struct {
	state     uint8
	warned    bool  // a failure was logged; further ones go to debug
	req       int64 // pending request
	since     int64 // Nanotime of the subscribe ack
	retryAt   int64 // Nanotime of the next try (stRetry)
	fails     int   // consecutive failures (backoff exponent)
	lastResub int64 // Nanotime of the last resubscribe; 0 = none yet
}

type request struct {
	num    int64
	op     parse.Op // OpSubscribe or OpUnsubscribe
	topics []int
	left   int // topics not yet answered (COMMAND_RESP answers per topic)
	sentNs int64
}

// errPongTimeout is why the control goroutine closes a dead connection.
var errPongTimeout = errors.New("session: no pong within PongTimeout")

// errAckTimeout stands in for ret_msg when a request went unanswered.
const errAckTimeout = "no ack within AckTimeout"

// control runs one connection's side work on its own goroutine:
// subscriptions and their acks, the heartbeat, topic silence and resync
// requests. It only writes to the socket (wsconn's writer is safe for use
// alongside the reader) and never touches the sink.
type control struct {
	s         *Session
	conn      *wsconn.Conn
	reconnect bool
	st        []topicState
	pending   map[int64]*request
	order     []int64 // pending request numbers in send order
	buf       []byte
	acks      []ack
	tick      time.Duration
	nextPing  int64
	budget    float64 // resubscribe tokens (ResyncPerSecond bucket)
	budgetNs  int64
	all       bool  // every topic has been acked once on this connection
	reason    error // why this goroutine closed the connection; read after join
}

func newControl(s *Session, conn *wsconn.Conn, reconnect bool) *control {
	c := &control{
		s:         s,
		conn:      conn,
		reconnect: reconnect,
		st:        make([]topicState, len(s.tt.names)),
		pending:   make(map[int64]*request),
		budget:    float64(s.cfg.ResyncPerSecond),
	}
	// The tick bounds how late a timeout, retry or resync is noticed.
	tick := min(s.cfg.PingInterval, s.cfg.PongTimeout, s.cfg.AckTimeout, s.cfg.ResyncInterval, s.cfg.BackoffBase)
	for _, d := range s.tt.silence {
		if d > 0 {
			tick = min(tick, time.Duration(d))
		}
	}
	c.tick = min(max(tick/4, 5*time.Millisecond), time.Second)
	return c
}

// run is the control goroutine's loop; it returns when done is closed or
// after it closed the connection.
func (c *control) run(done <-chan struct{}) {
	if !c.start(wsconn.Nanotime()) {
		return
	}
	t := time.NewTicker(c.tick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-c.s.ackCh:
		case <-c.s.resyncCh:
		case <-t.C:
		}
		if !c.step(wsconn.Nanotime()) {
			return
		}
	}
}

// start schedules the first ping and subscribes every topic.
func (c *control) start(now int64) bool {
	c.nextPing = now + int64(c.s.cfg.PingInterval)
	c.budgetNs = now
	return c.subscribeAll(now)
}

// subscribeAll sends every topic in groups of ArgsPerRequest.
func (c *control) subscribeAll(now int64) bool {
	n := len(c.st)
	if c.reconnect {
		c.s.m.resubscribes[reasonReconnect].Add(n)
	}
	per := c.s.cfg.ArgsPerRequest
	topics := make([]int, n)
	for i := range topics {
		topics[i] = i
	}
	for i := 0; i < n; i += per {
		if !c.send(parse.OpSubscribe, topics[i:min(i+per, n)], now) {
			return false
		}
	}
	return true
}

// step does everything due at now. It returns false once the connection is
// closed.
func (c *control) step(now int64) bool {
	c.s.ackMu.Lock()
	c.acks, c.s.acks = c.s.acks, c.acks[:0]
	c.s.ackMu.Unlock()
	for i := range c.acks {
		if !c.onAck(&c.acks[i], now) {
			return false
		}
	}
	clear(c.acks) // drop the strings and slices
	if !c.heartbeat(now) || !c.timeouts(now) || !c.retries(now) || !c.resubscribes(now) {
		return false
	}
	if !c.all && c.s.subscribed.Load() == int64(len(c.st)) {
		c.all = true
		c.s.log.Info("session: all topics subscribed", "url", c.s.cfg.URL, "topics", len(c.st), "connection", c.s.connections.Load())
	}
	return true
}

// heartbeat sends a ping when due and declares the connection dead when
// the outstanding one went unanswered for PongTimeout.
func (c *control) heartbeat(now int64) bool {
	s := c.s
	if sent := s.pingSentNs.Load(); sent != 0 {
		if now-sent > int64(s.cfg.PongTimeout) {
			return c.kill(errPongTimeout, "pong timeout")
		}
		return true // one ping at a time
	}
	if now < c.nextPing {
		return true
	}
	n := s.pingSeq.Add(1)
	c.buf = append(c.buf[:0], `{"op":"ping","req_id":"hb-`...)
	c.buf = strconv.AppendInt(c.buf, n, 10)
	c.buf = append(c.buf, `"}`...)
	s.pingSentNs.Store(wsconn.Nanotime())
	if err := c.conn.WriteText(c.buf); err != nil {
		return c.writeFailed(err)
	}
	s.pingsSent.Add(1)
	s.m.pingsSent.Inc()
	c.nextPing = now + int64(s.cfg.PingInterval)
	return true
}

// timeouts fails requests that went unanswered for AckTimeout.
func (c *control) timeouts(now int64) bool {
	for len(c.order) > 0 {
		r := c.pending[c.order[0]]
		if r == nil {
			c.order = c.order[1:]
			continue
		}
		if now-r.sentNs <= int64(c.s.cfg.AckTimeout) {
			break // later requests were sent later
		}
		if !c.finish(r, false, errAckTimeout, now) {
			return false
		}
	}
	return true
}

// retries resends failed subscriptions whose backoff has passed, one topic
// per request so that a bad topic cannot keep failing the good ones.
func (c *control) retries(now int64) bool {
	for i := range c.st {
		t := &c.st[i]
		if t.state == stRetry && now >= t.retryAt {
			if !c.send(parse.OpSubscribe, []int{i}, now) {
				return false
			}
		}
	}
	return true
}

// resubscribes starts the resyncs requested by processors and the
// resubscribes of silent topics, within the rate limits.
func (c *control) resubscribes(now int64) bool {
	s := c.s
	cfg := &s.cfg
	// Refill the overall budget.
	c.budget = min(float64(cfg.ResyncPerSecond), c.budget+float64(now-c.budgetNs)*float64(cfg.ResyncPerSecond)/1e9)
	c.budgetNs = now
	lastRecv := s.lastRecv.Load()
	for i := range c.st {
		t := &c.st[i]
		if t.state != stSubscribed {
			// A subscribe is in flight (first, retry, or the second half
			// of a resubscribe): the snapshot a resync would ask for is
			// already coming.
			if s.resyncFlag[i].Load() {
				s.resyncFlag[i].Store(false)
			}
			continue
		}
		if t.lastResub != 0 && now-t.lastResub < int64(cfg.ResyncInterval) {
			continue
		}
		reason := -1
		if s.resyncFlag[i].Load() {
			reason = reasonResync
		} else if thr := s.tt.silence[i]; thr > 0 {
			last := max(s.seen[i].Load(), t.since)
			// Silent past the threshold, and something else arrived
			// after that point, so it is the topic, not the connection
			// (a stalled connection is the heartbeat's business).
			if now-last > thr && lastRecv > last+thr {
				reason = reasonSilence
			}
		}
		if reason < 0 {
			continue
		}
		if c.budget < 1 {
			return true // the rest wait for the next tick
		}
		c.budget--
		t.lastResub = now
		s.m.resubscribes[reason].Inc()
		if reason == reasonResync {
			s.resyncFlag[i].Store(false)
			s.resyncs.Add(1)
		} else {
			s.silences.Add(1)
			// Tell the reader first, so the marker precedes whatever
			// the resubscribe brings.
			s.silent[i].Store(true)
			s.silentReq[i].Store(true)
			s.silentAny.Store(true)
			s.log.Info("session: topic silent; resubscribing it", "topic", s.tt.names[i],
				"silent", time.Duration(now-max(s.seen[i].Load(), t.since)).Round(time.Millisecond))
		}
		s.subscribed.Add(-1)
		if !c.send(parse.OpUnsubscribe, []int{i}, now) {
			return false
		}
	}
	return true
}

// send writes a subscribe or unsubscribe request for topics.
func (c *control) send(op parse.Op, topics []int, now int64) bool {
	s := c.s
	s.reqSeq++
	r := &request{num: s.reqSeq, op: op, topics: append([]int(nil), topics...), left: len(topics), sentNs: now}
	state := uint8(stSubPending)
	c.buf = append(c.buf[:0], `{"op":"subscribe","req_id":"s-`...)
	if op == parse.OpUnsubscribe {
		state = stUnsubPending
		c.buf = append(c.buf[:0], `{"op":"unsubscribe","req_id":"u-`...)
	}
	c.buf = strconv.AppendInt(c.buf, r.num, 10)
	c.buf = append(c.buf, `","args":[`...)
	for j, i := range topics {
		if j > 0 {
			c.buf = append(c.buf, ',')
		}
		c.buf = append(c.buf, '"')
		c.buf = append(c.buf, s.tt.names[i]...) // checked in New: no escaping needed
		c.buf = append(c.buf, '"')
		c.setState(i, state)
		c.st[i].req = r.num
	}
	c.buf = append(c.buf, "]}"...)
	c.pending[r.num] = r
	c.order = append(c.order, r.num)
	if err := c.conn.WriteText(c.buf); err != nil {
		return c.writeFailed(err)
	}
	return true
}

// onAck applies one answer.
func (c *control) onAck(a *ack, now int64) bool {
	if a.op == parse.OpCommand {
		// Option COMMAND_RESP: no req_id, no op; topics answered one by
		// one, each within whatever request is pending for it.
		for _, i := range a.succ {
			if !c.topicAnswer(i, true, "", now) {
				return false
			}
		}
		for _, i := range a.fail {
			if !c.topicAnswer(i, false, "failTopics", now) {
				return false
			}
		}
		return true
	}
	var r *request
	if a.num >= 0 {
		r = c.pending[a.num]
	} else {
		// Spot leaves req_id out at times: answers come in request
		// order, so take the oldest pending request of that op.
		for _, n := range c.order {
			if p := c.pending[n]; p != nil && p.op == a.op {
				r = p
				break
			}
		}
	}
	if r == nil || r.op != a.op {
		c.s.log.Debug("session: unmatched ack ignored", "op", a.op.String(), "success", a.ok, "ret_msg", a.msg)
		return true
	}
	return c.finish(r, a.ok, a.msg, now)
}

// finish applies the outcome of a whole request.
func (c *control) finish(r *request, ok bool, msg string, now int64) bool {
	c.drop(r)
	if r.op == parse.OpUnsubscribe {
		// Whatever the answer, the topic is resubscribed: a failed
		// unsubscribe means it was not subscribed, so subscribing is
		// right either way.
		return c.resubscribe(r.topics, now)
	}
	if !ok && strings.Contains(msg, "already subscribed") {
		// "error:already subscribed,topic:T": T is subscribed. If the
		// request held others, their fate is unknown: ask again singly
		// (they come back ok or already subscribed).
		for _, i := range r.topics {
			if len(r.topics) == 1 || strings.HasSuffix(msg, ":"+c.s.tt.names[i]) {
				c.subscribedOK(i, now)
			} else {
				c.setState(i, stRetry)
				c.st[i].retryAt = now
			}
		}
		return true
	}
	if ok {
		for _, i := range r.topics {
			c.subscribedOK(i, now)
		}
		return true
	}
	c.s.m.subscribeFailures.Inc()
	for _, i := range r.topics {
		c.subscribeFailed(i, msg, now)
	}
	return true
}

// topicAnswer applies a per-topic answer (COMMAND_RESP).
func (c *control) topicAnswer(i int, ok bool, msg string, now int64) bool {
	t := &c.st[i]
	r := c.pending[t.req]
	if r == nil || (t.state != stSubPending && t.state != stUnsubPending) {
		return true // not waiting for one
	}
	if r.left--; r.left <= 0 {
		c.drop(r)
	}
	if t.state == stUnsubPending {
		return c.resubscribe([]int{i}, now)
	}
	if ok {
		c.subscribedOK(i, now)
		return true
	}
	c.s.m.subscribeFailures.Inc()
	c.subscribeFailed(i, msg, now)
	return true
}

func (c *control) drop(r *request) {
	delete(c.pending, r.num)
	if len(c.order) > 0 && c.order[0] == r.num {
		c.order = c.order[1:]
	}
	// Others leave c.order when they reach its head (timeouts).
}

// resubscribe sends the subscribe half of a resubscribe.
func (c *control) resubscribe(topics []int, now int64) bool {
	var todo []int
	for _, i := range topics {
		if c.st[i].state == stUnsubPending {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return true
	}
	return c.send(parse.OpSubscribe, todo, now)
}

func (c *control) subscribedOK(i int, now int64) {
	t := &c.st[i]
	if t.state == stSubscribed {
		return
	}
	if t.warned {
		c.s.log.Info("session: subscribed after failures", "topic", c.s.tt.names[i], "failures", t.fails)
	}
	c.setState(i, stSubscribed)
	t.since = now
	t.fails = 0
	t.warned = false
	c.s.subscribed.Add(1)
}

// subscribeFailed schedules a retry on the backoff schedule and logs the
// first failure of a streak with Bybit's ret_msg.
func (c *control) subscribeFailed(i int, msg string, now int64) {
	t := &c.st[i]
	cfg := &c.s.cfg
	wait := backoff(cfg.BackoffBase, cfg.BackoffCap, t.fails)
	t.fails++
	c.setState(i, stRetry)
	t.retryAt = now + int64(wait)
	if !t.warned {
		t.warned = true
		c.s.log.Warn("session: subscribe failed; retrying with backoff", "topic", c.s.tt.names[i], "ret_msg", msg, "retry_in", wait.Round(time.Millisecond))
	} else {
		c.s.log.Debug("session: subscribe failed again", "topic", c.s.tt.names[i], "ret_msg", msg, "failures", t.fails)
	}
}

// setState moves topic i to state and publishes whether it is subscribed
// (Session.TopicState).
func (c *control) setState(i int, state uint8) {
	c.st[i].state = state
	c.s.up[i].Store(state == stSubscribed)
}

// kill closes the connection for reason; the reader then ends.
func (c *control) kill(reason error, wire string) bool {
	c.reason = reason
	_ = c.conn.Close(wsconn.CloseNormal, wire)
	return false
}

// writeFailed handles a failed request write: wsconn has closed the
// connection already (a partial frame cannot be taken back).
func (c *control) writeFailed(err error) bool {
	if !errors.Is(err, wsconn.ErrClosed) {
		c.reason = err
	}
	_ = c.conn.Close(wsconn.CloseNormal, "")
	return false
}
