package session

import (
	"errors"
	"strconv"
	"time"

	"github.com/ringfeed/ringfeed/internal/ratelog"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// reader is the per-message path of the reader goroutine (the goroutine in
// Run). Its fields other than the atomics are touched by that goroutine
// only.
type reader struct {
	s      *Session
	parser *parse.Parser
	sink   Sink
	psink  parse.Sink // sink as a parse.Sink, converted once
	tt     *topicTable
	m      *sessionMetrics
	tap    func(p []byte, recvNs int64)
	// dataMsgs counts data messages on the current connection, msgs all
	// messages.
	dataMsgs, msgs int64
	// unflushed counts committed messages not yet published; lastRead is
	// the receive stamp of the socket read the last message came from.
	unflushed int
	lastRead  int64

	// Liveness stamps and per-kind counts go to the shared atomics and
	// counters at most once per socket read (stamps) or per flush
	// (counts), not once per message: each atomic write is a full fence
	// on amd64, which waits for the message's slot stores to reach the
	// cache, and at a live feed's pace those are cache misses.
	// lastRecvStored is the receive stamp last stored in s.lastRecv;
	// seenStored[i] the one last stored in s.seen[i]; kinds the data
	// messages by kind not yet added to their counters.
	lastRecvStored int64
	seenStored     []int64
	kinds          [numKinds]uint64

	parseLog, binLog, opLog ratelog.Gate
}

// flushEvery bounds how many messages the reader commits before it
// publishes even though more are buffered (the publish rule is on
// Sink.Flush). Batching saves a cross-core cache-line transfer per message
// but makes the first message of a batch wait for the others to be
// parsed, so the batch is kept small: at most 3 parses of added latency
// (the flush stage of ringfeed_stage_latency_seconds).
const flushEvery = 4

// flush publishes committed messages. The read loop calls it when the
// connection has no complete message buffered: once per socket read.
func (r *reader) flush() {
	if r.unflushed > 0 {
		r.unflushed = 0
		r.sink.Flush()
	}
	r.count()
}

// count adds the data messages counted since the last call to their
// messages_total counters.
func (r *reader) count() {
	for k, n := range r.kinds {
		if n > 0 {
			r.m.messages[k].AddInt64(int64(n))
			r.kinds[k] = 0
		}
	}
}

// seenStride is how stale a topic's shared last-data stamp may be. The
// control goroutine judges silence over seconds (Config.Silence), so
// a millisecond is nothing to it, and it spares the reader a fenced store
// per message.
const seenStride = int64(time.Millisecond)

// handle processes one message: the whole per-message work of the reader
// goroutine. Data messages go through the parser into the sink and are
// committed and flushed; op messages (acks, pongs) are handed to the
// control side. It never blocks except inside Sink.Next (the engine's
// bounded wait), and does not allocate for data messages.
func (r *reader) handle(m wsconn.Message) {
	if r.s.silentAny.Load() {
		r.silences()
	}
	if m.RecvNs != r.lastRecvStored {
		// Once per socket read: the messages of one read share it.
		r.s.lastRecv.Store(m.RecvNs)
		r.lastRecvStored = m.RecvNs
	}
	r.msgs++
	if r.tap != nil {
		r.tap(m.Payload, m.RecvNs)
	}
	if m.Op != wsconn.OpText {
		r.binary(m)
		return
	}
	res, err := r.parser.Parse(m.Payload, m.RecvNs, r.psink)
	if err != nil {
		r.fail(m, &res, err)
		return
	}
	if res.Class != parse.ClassData {
		r.op(&res, m.RecvNs)
		return
	}
	r.sink.Commit()
	// The publish rule: see Sink.Flush.
	first := m.RecvNs != r.lastRead
	r.lastRead = m.RecvNs
	if r.unflushed++; first || r.unflushed >= flushEvery {
		r.flush()
	}
	r.dataMsgs++
	if k := int(res.Kind); k > 0 && k < numKinds {
		r.kinds[k]++
	}
	if i := r.tt.lookup(res.Kind, resultParam(&res), res.Sym); i >= 0 {
		if m.RecvNs-r.seenStored[i] >= seenStride {
			r.s.seen[i].Store(m.RecvNs)
			r.seenStored[i] = m.RecvNs
		}
		if r.s.silent[i].Load() {
			r.s.silent[i].Store(false)
		}
	}
}

// silences passes the topics the control goroutine found silent to
// Sink.Silent, between messages, so the markers enter the ring ahead of
// anything the resubscribe brings.
func (r *reader) silences() {
	s := r.s
	// Clear first: a request set after this store also sets silentAny
	// again after it, so none is missed.
	s.silentAny.Store(false)
	for i := range s.silentReq {
		if !s.silentReq[i].Load() {
			continue
		}
		s.silentReq[i].Store(false)
		for _, sym := range r.tt.streams[i].syms {
			r.sink.Silent(r.tt.result(i, sym))
		}
		r.unflushed++ // the sink may have queued a marker to publish
	}
}

// fail handles a frame the parser rejected: counted by reason, logged
// rate-limited with a short sample, skipped. A data message that stopped
// midway is aborted so the engine rolls back its slots and marks the
// symbol stale.
func (r *reader) fail(m wsconn.Message, res *parse.Result, err error) {
	if res.Class == parse.ClassData {
		r.sink.Abort(*res, err)
		r.unflushed++ // the sink may have queued a drop marker to publish
		if errors.Is(err, parse.ErrNoRoom) {
			// Not bad input: the engine's ring was full; it counts and
			// resyncs.
			r.m.noRoom.Inc()
			return
		}
	}
	if r.s.cfg.Category == "option" && res.Kind == parse.KindTrade && errors.Is(err, parse.ErrUnknownSymbol) {
		// publicTrade.{BASE} carries every strike of the base coin:
		// a batch of strikes not subscribed is normal traffic.
		r.m.ignored[ignoredUnsubscribed].Inc()
		return
	}
	r.m.parseErrors[reasonIndex(err)].Inc()
	if ok, dropped := r.parseLog.Allow(wsconn.Nanotime(), logEvery); ok {
		r.s.log.Warn("session: bad message skipped", "err", err, "sample", sample(m.Payload), "suppressed", dropped)
	}
}

// binary counts and drops a binary message: Bybit's public streams send
// none.
func (r *reader) binary(m wsconn.Message) {
	if ok, dropped := r.binLog.Allow(wsconn.Nanotime(), logEvery); ok {
		r.s.log.Warn("session: binary message dropped", "bytes", len(m.Payload), "sample", sample(m.Payload), "suppressed", dropped)
	}
}

// op handles a control message. Pongs are matched here; acks are copied
// and queued for the control goroutine. Off the data path (acks and pongs
// come every few seconds), so it may allocate a little.
func (r *reader) op(res *parse.Result, recvNs int64) {
	r.m.messages[kindOp].Inc()
	switch res.Op {
	case parse.OpPong:
		r.s.pong(res, recvNs)
	case parse.OpSubscribe, parse.OpUnsubscribe, parse.OpCommand:
		r.s.pushAck(res)
	default:
		r.m.unknownOps.Inc()
		if ok, dropped := r.opLog.Allow(wsconn.Nanotime(), logEvery); ok {
			r.s.log.Info("session: unknown op message ignored", "op", res.Op.String(), "ret_msg", string(res.RetMsg), "suppressed", dropped)
		}
	}
}

// sampleMax bounds the part of a bad frame quoted in a log line.
const sampleMax = 200

// sample returns a short escaped excerpt of a frame for a log line.
func sample(p []byte) string {
	if len(p) > sampleMax {
		return strconv.Quote(string(p[:sampleMax])) + "…"
	}
	return strconv.Quote(string(p))
}

// logEvery is the minimum interval between two log lines of one kind.
const logEvery = 10 * time.Second

// parseReqNum parses a req_id "<prefix><n>" sent by this package.
func parseReqNum(b []byte, prefix string) (int64, bool) {
	if len(b) <= len(prefix) || len(b) > len(prefix)+18 || string(b[:len(prefix)]) != prefix {
		return 0, false
	}
	var n int64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
