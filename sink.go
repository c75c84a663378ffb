package ringfeed

import (
	"errors"
	"time"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// maxMarkers bounds the drop markers a reader keeps while its ring is full.
// Past it the reader stops tracking single streams and resets the whole
// connection's state instead (one marker), so memory stays fixed however
// long the processor stalls.
const maxMarkers = 256

// ringSink is the reader side of a connection's ring: the parser writes
// events straight into reserved slots, and committed messages are published
// when the session's reader flushes (see session.Sink for when). When the
// ring is full it waits a bounded time (ring.SPSC.ReserveWait: the
// producer side of the ring's one wait mechanism), then drops the message,
// and remembers a marker for the affected stream that goes into the ring as
// soon as there is room, so the processor marks that stream stale
// (docs/design.md: bounded reader wait). It also stamps each message's last slot with the
// stage times the processor's latency-by-stage histograms read. Owned by
// the reader goroutine.
type ringSink struct {
	r    *ring.SPSC[parse.Event]
	wait time.Duration
	m    *engineMetrics

	// eager publishes every message at Commit instead of when the
	// session flushes (a spinning processor: see engine.go).
	eager bool
	// lender is the ring's processor when it lends itself to its readers
	// (processor.lend): Flush applies what it publishes, if it may,
	// instead of waking the processor.
	lender *processor

	inMsg    bool
	dropping bool // the last bounded wait ran out and no slot freed since
	n        int  // events handed out for the current message
	unpub    int  // of those, still reserved (not published)
	cur      *parse.Event

	// Stage stamps: the last slots of committed, unpublished messages
	// (their PubNs is set at publish), and when the reader last finished
	// with a message (the next one's parse cannot have started earlier).
	pend    [pendMax]*parse.Event
	npend   int
	lastEnd int64

	markers  [maxMarkers]parse.Event
	nmarkers int
	reset    bool  // a kindReset marker is pending
	resetU   int64 // its U: markNoRoom after a marker overflow, 0 after a reconnect
}

// pendMax bounds the committed messages held back before a publish; past
// it the sink publishes at once (the session flushes far sooner).
const pendMax = 64

func newRingSink(r *ring.SPSC[parse.Event], wait time.Duration, m *engineMetrics) *ringSink {
	return &ringSink{r: r, wait: wait, m: m}
}

// reserveWait publishes what is reserved (so the processor can drain it),
// then waits until a slot frees up or the bounded wait is over. The reader
// must get back to its socket: after one wait runs out it drops at once
// until the processor frees a slot.
func (s *ringSink) reserveWait() *parse.Event {
	// Publish first, always: ReserveWait publishes only when it finds the
	// ring still full, and the current message's slots must be published
	// (or still counted in unpub) whatever it finds.
	s.publish()
	wait := s.wait
	if s.dropping {
		// The processor has not freed a slot since the last wait ran
		// out: waiting again per message would slow the reader to one
		// message per wait and starve its pongs.
		wait = 0
	} else {
		s.m.ringFull.Inc()
	}
	e, err := s.r.ReserveWait(wait)
	// Every slot reserved before is published: the processor's now, and
	// the current message can no longer roll them back.
	s.unpub = 0
	if e != nil {
		s.dropping = false
		return e
	}
	if err == ring.ErrFull && wait > 0 {
		s.dropping = true
	}
	return nil
}

// stampPub sets the publish stamp of every committed message about to be
// published.
func (s *ringSink) stampPub() {
	if s.npend == 0 {
		return
	}
	s.stampPubAt(wsconn.Nanotime())
}

// stampPubAt is stampPub with the clock already read.
func (s *ringSink) stampPubAt(now int64) {
	for _, e := range s.pend[:s.npend] {
		e.PubNs = now
	}
	s.npend = 0
	s.lastEnd = now
}

func (s *ringSink) publish() {
	s.stampPub()
	s.r.Publish() // rings the processor's bell
}

// Next implements parse.Sink.
func (s *ringSink) Next() *parse.Event {
	if !s.inMsg {
		s.inMsg = true
		s.n, s.unpub = 0, 0
		if (s.nmarkers > 0 || s.reset) && !s.placeMarkers(true) {
			return nil
		}
	}
	if e := s.r.Reserve(); e != nil {
		s.dropping = false
		s.n++
		s.unpub++
		s.cur = e
		return e
	}
	e := s.reserveWait()
	if e == nil {
		return nil
	}
	// reserveWait published everything reserved before it, including the
	// first events of this message: only the new slot is still ours.
	s.n++
	s.unpub++
	s.cur = e
	return e
}

// Commit ends a message that was parsed whole and stamps its last slot:
// the parse started when the reader was done with the previous message or
// when the socket read delivered this one, whichever came later, and ended
// now.
func (s *ringSink) Commit() {
	s.inMsg = false
	s.n, s.unpub = 0, 0
	if e := s.cur; e != nil {
		now := wsconn.Nanotime()
		e.ParseNs = max(e.RecvNs, s.lastEnd)
		e.DoneNs = now
		e.PubNs = now
		s.lastEnd = now
		s.cur = nil
		s.pend[s.npend] = e
		if s.npend++; s.eager {
			// Published as committed: one clock read stamps both.
			s.stampPubAt(now)
			s.r.Publish()
		} else if s.npend == pendMax {
			s.publish()
		}
	}
}

// Abort ends a message that failed midway: its unpublished events are
// rolled back and, for a data message of a known symbol, a drop marker is
// queued so the processor distrusts that stream until it is resynced.
func (s *ringSink) Abort(res parse.Result, err error) {
	if s.unpub > 0 {
		s.r.Rollback(s.unpub)
	}
	s.inMsg = false
	s.n, s.unpub = 0, 0
	s.cur = nil
	s.lastEnd = wsconn.Nanotime()
	if errors.Is(err, parse.ErrNoRoom) {
		s.m.ringDrops.Inc()
	}
	if res.Class != parse.ClassData || res.Sym == parse.NoSymbol {
		return
	}
	reason := uint8(markNoRoom)
	if !errors.Is(err, parse.ErrNoRoom) {
		reason = markBadInput
	}
	s.addMarker(res, reason)
	s.placeMarkers(false)
}

// Silent queues a marker for a stream the session found silent: the
// processor marks it stale until fresh data arrives. Called between
// messages.
func (s *ringSink) Silent(res parse.Result) {
	if res.Sym == parse.NoSymbol {
		return
	}
	s.addMarker(res, markSilent)
	s.placeMarkers(false)
}

// Marker reasons, carried in a kindDropped event's U.
const (
	markNoRoom   = 1 // the ring was full
	markBadInput = 2 // the message failed to parse midway
	markSilent   = 3 // the session found the stream silent (no data lost)
)

func (s *ringSink) addMarker(res parse.Result, reason uint8) {
	for i := range s.nmarkers {
		m := &s.markers[i]
		if m.Sym == res.Sym && parse.Kind(m.Seq) == res.Kind && m.Depth == res.Depth && m.Interval == res.Interval && m.U == int64(reason) {
			return
		}
	}
	if s.nmarkers == maxMarkers {
		s.reset = true
		s.resetU = markNoRoom
		s.nmarkers = 0
		return
	}
	m := &s.markers[s.nmarkers]
	*m = parse.Event{Kind: kindDropped, Sym: res.Sym, Depth: res.Depth, Interval: res.Interval, Seq: int64(res.Kind), U: int64(reason)}
	s.nmarkers++
}

// placeMarkers moves pending markers into the ring, waiting for room only
// if wait is set; it reports whether all of them were placed.
func (s *ringSink) placeMarkers(wait bool) bool {
	if s.reset {
		e := s.slot(wait)
		if e == nil {
			return false
		}
		e.Kind = kindReset
		e.Sym = parse.NoSymbol
		e.Flags = parse.First | parse.Last
		e.U = s.resetU
		s.reset = false
	}
	for s.nmarkers > 0 {
		e := s.slot(wait)
		if e == nil {
			return false
		}
		s.nmarkers--
		*e = s.markers[s.nmarkers]
	}
	return true
}

func (s *ringSink) slot(wait bool) *parse.Event {
	if e := s.r.Reserve(); e != nil {
		return e
	}
	if !wait {
		return nil
	}
	return s.reserveWait()
}

// Flush publishes every committed message: once per socket read.
func (s *ringSink) Flush() {
	if !s.inMsg && (s.nmarkers > 0 || s.reset) {
		s.placeMarkers(false)
	}
	if s.lender == nil {
		s.publish()
		return
	}
	s.stampPub()
	if s.r.PublishQuiet() && !s.lender.lend() {
		s.lender.bell.Ring()
	}
}

// Reset is called when a connection is (re)established, before its first
// data: everything the processor holds for this connection is stale until
// the new snapshots arrive. Single-stream markers are superseded.
func (s *ringSink) Reset() {
	s.nmarkers = 0
	s.reset = true
	s.resetU = 0
	s.placeMarkers(true)
	s.publish()
}
