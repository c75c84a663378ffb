package ringfeed

import (
	"errors"
	"runtime"
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
// events straight into reserved slots; complete messages are published
// once per socket read (Flush). When the ring is full it waits a bounded
// time, then drops the message, and remembers a marker for the affected
// stream that goes into the ring as soon as there is room, so the
// processor marks that stream stale (docs/design.md: bounded reader wait). Owned by the
// reader goroutine.
type ringSink struct {
	r    *ring.SPSC[parse.Event]
	bell *bell
	wait time.Duration
	m    *engineMetrics

	inMsg    bool
	dropping bool // the last bounded wait ran out and no slot freed since
	n        int  // events handed out for the current message
	unpub    int  // of those, still reserved (not published)

	markers  [maxMarkers]parse.Event
	nmarkers int
	reset    bool  // a kindReset marker is pending
	resetU   int64 // its U: markNoRoom after a marker overflow, 0 after a reconnect
	overflow bool
}

func newRingSink(r *ring.SPSC[parse.Event], b *bell, wait time.Duration, m *engineMetrics) *ringSink {
	return &ringSink{r: r, bell: b, wait: wait, m: m}
}

// reserveWait publishes what is reserved (so the processor can drain it),
// then yields until a slot frees up or the bounded wait is over. It never
// parks and never sleeps: the reader must get back to its socket.
func (s *ringSink) reserveWait() *parse.Event {
	s.publish()
	// Published slots are the processor's now: the current message can no
	// longer roll them back.
	s.unpub = 0
	if s.dropping {
		// The processor has not freed a slot since the last wait ran
		// out: waiting again per message would slow the reader to one
		// message per wait and starve its pongs. Drop at once until the
		// ring has room again.
		if e := s.r.Reserve(); e != nil {
			s.dropping = false
			return e
		}
		return nil
	}
	s.m.ringFull.Inc()
	deadline := wsconn.Nanotime() + int64(s.wait)
	for i := 0; ; i++ {
		if e := s.r.Reserve(); e != nil {
			return e
		}
		if s.r.Closed() {
			return nil
		}
		runtime.Gosched()
		if i&15 == 15 {
			if wsconn.Nanotime() > deadline {
				s.dropping = true
				return nil
			}
			s.bell.ring()
		}
	}
}

func (s *ringSink) publish() {
	s.r.Publish()
	s.bell.ring()
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
	return e
}

// Commit ends a message that was parsed whole.
func (s *ringSink) Commit() {
	s.inMsg = false
	s.n, s.unpub = 0, 0
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
		s.overflow = true
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
	s.publish()
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
