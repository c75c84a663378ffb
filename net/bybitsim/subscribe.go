package bybitsim

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"
)

// request is a client message. req_id is free-form: a string is echoed as
// is, any other JSON value as its text.
type request struct {
	Op    string          `json:"op"`
	Args  []string        `json:"args"`
	ReqID json.RawMessage `json:"req_id"`
}

// handleRequest serves one client text message on the connection's reader
// goroutine. Control traffic is rare, so encoding/json is fine here.
func (s *Server) handleRequest(c *conn, msg []byte) {
	var req request
	err := json.Unmarshal(msg, &req)
	reqID, hasID := "", false
	if len(req.ReqID) > 0 && string(req.ReqID) != "null" {
		hasID = true
		if json.Unmarshal(req.ReqID, &reqID) != nil {
			reqID = string(req.ReqID)
		}
	}
	if err != nil {
		// Not JSON (or wrong types): Bybit's text for this is not known;
		// answer like an unknown op so the client sees a failure.
		s.reply(c, appendAck(nil, c, "", false, "error:invalid request", reqID, hasID))
		return
	}
	switch req.Op {
	case "ping":
		if c.stalled(time.Now().UnixNano()) {
			s.stats.pingsStalled.Add(1)
			return
		}
		s.stats.pings.Add(1)
		s.reply(c, s.appendPong(nil, c, reqID, hasID))
	case "subscribe":
		s.subscribe(c, req.Args, reqID, hasID, false)
	case "unsubscribe":
		s.subscribe(c, req.Args, reqID, hasID, true)
	default:
		s.reply(c, appendAck(nil, c, req.Op, false, "error:invalid op", reqID, hasID))
	}
}

func (s *Server) reply(c *conn, p []byte) { c.enqueue(ws.OpText, p, false) }

// appendAck writes a spot/linear/inverse ack:
// {"success":..,"ret_msg":..,"conn_id":..,"req_id":..,"op":..}. Spot omits
// req_id when none was sent and says the op in ret_msg on success;
// linear/inverse send req_id "" and an empty ret_msg.
func appendAck(dst []byte, c *conn, op string, ok bool, retMsg, reqID string, hasID bool) []byte {
	dst = append(dst, `{"success":`...)
	dst = strconv.AppendBool(dst, ok)
	dst = append(dst, `,"ret_msg":`...)
	dst = appendJSONString(dst, retMsg)
	dst = append(dst, `,"conn_id":`...)
	dst = appendJSONString(dst, c.id)
	if hasID || c.cat != catSpot {
		dst = append(dst, `,"req_id":`...)
		dst = appendJSONString(dst, reqID)
	}
	dst = append(dst, `,"op":`...)
	dst = appendJSONString(dst, op)
	return append(dst, '}')
}

// appendOptionAck writes the option socket's per-topic COMMAND_RESP ack.
func appendOptionAck(dst []byte, c *conn, reqID string, hasID bool, okTopics, failTopics []string) []byte {
	dst = append(dst, `{"success":`...)
	dst = strconv.AppendBool(dst, len(failTopics) == 0)
	dst = append(dst, `,"conn_id":`...)
	dst = appendJSONString(dst, c.id)
	if hasID {
		dst = append(dst, `,"req_id":`...)
		dst = appendJSONString(dst, reqID)
	}
	list := func(dst []byte, ts []string) []byte {
		dst = append(dst, '[')
		for i, t := range ts {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, t)
		}
		return append(dst, ']')
	}
	dst = append(dst, `,"data":{"failTopics":`...)
	dst = list(dst, failTopics)
	dst = append(dst, `,"successTopics":`...)
	dst = list(dst, okTopics)
	return append(dst, `},"type":"COMMAND_RESP"}`...)
}

// appendPong answers {"op":"ping"}: option sockets say
// {"op":"pong","args":["<ms>"]}, the others echo op "ping" with ret_msg
// "pong" in their ack shape.
func (s *Server) appendPong(dst []byte, c *conn, reqID string, hasID bool) []byte {
	if c.cat == catOption {
		dst = append(dst, `{"op":"pong","args":["`...)
		dst = strconv.AppendInt(dst, s.simNow(), 10)
		return append(dst, `"]}`...)
	}
	return appendAck(dst, c, "ping", true, "pong", reqID, hasID)
}

// Error texts as Bybit sends them.
func errHandlerNotFound(topic string) string { return "error:handler not found,topic:" + topic }
func errInvalidSymbol(topic string) string   { return "Invalid symbol :[" + topic + "]" }
func errAlreadySubscribed(topic string) string {
	return "error:already subscribed,topic:" + topic
}

const errArgsSize = "args size >10"

// lookup finds (making it on first use) the stream of a topic, or returns
// Bybit's error text for it.
func (s *Server) lookup(cat category, topic string) (*stream, string) {
	if st := s.streams[cat][topic]; st != nil {
		return st, ""
	}
	k, rest, _ := strings.Cut(topic, ".")
	var st *stream
	switch k {
	case "orderbook":
		ds, sym, _ := strings.Cut(rest, ".")
		d, err := strconv.Atoi(ds)
		if err != nil || strconv.Itoa(d) != ds || !depthOffered(cat, d) {
			return nil, errHandlerNotFound(topic)
		}
		m := s.markets[cat][sym]
		if m == nil {
			return nil, errInvalidSymbol(topic)
		}
		st = newStream(cat, kindBook, topic, m, s.cfg.Seed)
		st.depth = d
		st.sentB, st.sentA = make([]level, 0, d), make([]level, 0, d)
	case "kline":
		is, sym, _ := strings.Cut(rest, ".")
		iv, ok := parseInterval(is)
		if !ok || cat == catOption {
			return nil, errHandlerNotFound(topic)
		}
		m := s.markets[cat][sym]
		if m == nil {
			return nil, errInvalidSymbol(topic)
		}
		st = newStream(cat, kindKline, topic, m, s.cfg.Seed)
		st.iv = iv
	case "tickers":
		m := s.markets[cat][rest]
		if m == nil {
			return nil, errInvalidSymbol(topic)
		}
		st = newStream(cat, kindTicker, topic, m, s.cfg.Seed)
	case "publicTrade":
		var mkts []*market
		if cat == catOption {
			mkts = s.bases[rest]
		} else if m := s.markets[cat][rest]; m != nil {
			mkts = []*market{m}
		}
		if len(mkts) == 0 {
			return nil, errInvalidSymbol(topic)
		}
		st = newStream(cat, kindTrade, topic, nil, s.cfg.Seed)
		if cat != catOption {
			st.m = mkts[0]
		}
		st.mkts = mkts
		st.cursors = make([]uint64, len(mkts))
	default:
		return nil, errHandlerNotFound(topic)
	}
	st.every = mixedEvery(cat, st.kind, st.depth)
	st.phase = hashSeed(s.cfg.Seed, "phase", topic) % st.every
	s.streams[cat][topic] = st
	return st, ""
}

func depthOffered(cat category, d int) bool {
	if cat == catOption {
		return d == 25 || d == 100
	}
	return d == 1 || d == 50 || d == 200 || d == 1000
}

// subscribe serves subscribe and unsubscribe. Spot, linear and inverse
// reject a request as a whole when any topic fails (the ack names the first
// failing topic); option reports each topic in successTopics/failTopics.
func (s *Server) subscribe(c *conn, args []string, reqID string, hasID, unsub bool) {
	op := "subscribe"
	if unsub {
		op = "unsubscribe"
	}
	okMsg := ""
	if c.cat == catSpot {
		okMsg = op
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.subs == nil {
		return // connection already gone
	}
	if c.cat == catSpot && len(args) > 10 {
		s.stats.subsFailed.Add(int64(len(args)))
		s.reply(c, appendAck(nil, c, op, false, errArgsSize, reqID, hasID))
		return
	}
	now := s.simNow()
	var okS []*stream
	var okT, failT []string
	seen := map[string]bool{}
	for _, t := range args {
		st, e := s.check(c, t, seen, unsub)
		if e != "" {
			if c.cat != catOption {
				s.stats.subsFailed.Add(int64(len(args)))
				s.reply(c, appendAck(nil, c, op, false, e, reqID, hasID))
				return
			}
			failT = append(failT, t)
			continue
		}
		seen[t] = true
		okT = append(okT, t)
		okS = append(okS, st)
	}
	s.stats.subsFailed.Add(int64(len(failT)))
	var ack []byte
	if c.cat == catOption {
		ack = appendOptionAck(nil, c, reqID, hasID, okT, failT)
	} else {
		ack = appendAck(nil, c, op, true, okMsg, reqID, hasID)
	}
	if unsub {
		for _, st := range okS {
			if sb := c.subs[st.topic]; sb != nil {
				s.detach(sb)
			}
		}
		s.stats.unsubsOK.Add(int64(len(okS)))
		s.reply(c, ack)
		return
	}
	for _, st := range okS {
		s.attach(c, st, now)
	}
	s.stats.subsOK.Add(int64(len(okS)))
	if !s.cfg.SnapshotBeforeAck {
		s.reply(c, ack)
	}
	real := time.Now().UnixNano()
	for _, st := range okS {
		if st.muted(real) {
			continue
		}
		if p := s.firstMessage(st, now); p != nil {
			s.send(c, st, p)
		}
	}
	if s.cfg.SnapshotBeforeAck {
		s.reply(c, ack)
	}
}

// check validates one topic of a request for this connection.
func (s *Server) check(c *conn, topic string, seen map[string]bool, unsub bool) (*stream, string) {
	st, e := s.lookup(c.cat, topic)
	if e != "" {
		return nil, e
	}
	if unsub {
		return st, "" // unsubscribing what is not subscribed is harmless
	}
	if st.rejectN > 0 {
		st.rejectN--
		return nil, errHandlerNotFound(topic)
	}
	if c.subs[topic] != nil || seen[topic] {
		return nil, errAlreadySubscribed(topic)
	}
	return st, ""
}

// muted reports whether a FaultMute holds st at real time real.
func (st *stream) muted(real int64) bool {
	return st.mute && (st.silentUntil < 0 || real < st.silentUntil)
}

// firstMessage renders what a new subscriber gets at once: the book or
// ticker snapshot of the sent state, the open candle; nothing for trades.
func (s *Server) firstMessage(st *stream, now int64) []byte {
	switch st.kind {
	case kindBook:
		s.snap = st.appendBookSnapshot(s.snap[:0])
	case kindTicker:
		s.snap = st.appendTickerSnapshot(s.snap[:0])
	case kindKline:
		if n := len(st.sentK); n > 0 && st.lastStart != 0 {
			// Join the stream where it is: the candle it last sent.
			c := st.sentK[n-1]
			s.snap = st.appendKline(s.snap[:0], &c.c, c.confirm, now)
		} else {
			st.lastStart = st.ks.cur.start
			st.recordKline(st.ks.cur, false)
			s.snap = st.appendKline(s.snap[:0], &st.ks.cur, false, now)
		}
	default:
		return nil
	}
	return s.snap
}

func (s *Server) attach(c *conn, st *stream, now int64) {
	sb := &sub{c: c, st: st}
	c.subs[st.topic] = sb
	c.order = append(c.order, st.topic)
	st.subs = append(st.subs, sb)
	if len(st.subs) == 1 {
		s.activate(st, now)
	}
}

func (s *Server) detach(sb *sub) {
	c, st := sb.c, sb.st
	delete(c.subs, st.topic)
	for i, t := range c.order {
		if t == st.topic {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	for i, x := range st.subs {
		if x == sb {
			last := len(st.subs) - 1
			st.subs[i] = st.subs[last]
			st.subs[last] = nil
			st.subs = st.subs[:last]
			break
		}
	}
	if len(st.subs) == 0 {
		s.deactivate(st)
	}
}

// activate puts a stream that just got its first subscriber on the
// generator's list and brings its sent state up to date (nobody has seen
// it since it went idle).
func (s *Server) activate(st *stream, now int64) {
	st.activeIdx = len(s.active)
	s.active = append(s.active, st)
	for _, m := range st.mkts {
		s.ref(m)
	}
	if st.kind != kindTrade {
		s.ref(st.m)
	}
	switch st.kind {
	case kindBook:
		s.refreshBook(st, now)
	case kindTicker:
		if s.updateTicker(st, now) {
			st.tk.has = true
		}
	case kindTrade:
		for i, m := range st.mkts {
			st.cursors[i] = m.tradeHead
		}
	case kindKline:
		st.ks = st.m.kseries(st.iv, now, s.cfg.Seed)
		st.lastStart = 0
	}
}

func (s *Server) deactivate(st *stream) {
	last := len(s.active) - 1
	s.active[st.activeIdx] = s.active[last]
	s.active[st.activeIdx].activeIdx = st.activeIdx
	s.active[last] = nil
	s.active = s.active[:last]
	st.activeIdx = -1
	for _, m := range st.mkts {
		s.unref(m)
	}
	if st.kind != kindTrade {
		s.unref(st.m)
	}
}

func (s *Server) ref(m *market) {
	if m.refs++; m.refs == 1 {
		m.activeIdx = len(s.activeMk)
		s.activeMk = append(s.activeMk, m)
	}
}

func (s *Server) unref(m *market) {
	if m.refs--; m.refs == 0 {
		last := len(s.activeMk) - 1
		s.activeMk[m.activeIdx] = s.activeMk[last]
		s.activeMk[m.activeIdx].activeIdx = m.activeIdx
		s.activeMk[last] = nil
		s.activeMk = s.activeMk[:last]
	}
}
