package main

import (
	"fmt"
	"math"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/session"
)

// The reconnect schedule the soak checks ringfeed against: its defaults
// (session.DefaultBackoffBase/Cap, session.DefaultHealthyAfter) and the
// engine's connection limiter (session.NewWindowLimiter with
// session.DefaultConnects: a burst of 200, then one per 1.5 s). The soak
// does not pass --backoff-base/--backoff-cap, so these are what the binary
// runs with.
const (
	backoffBase  = session.DefaultBackoffBase
	backoffCap   = session.DefaultBackoffCap
	healthyAfter = session.DefaultHealthyAfter
	pongTimeout  = session.DefaultPongTimeout
	limiterBurst = session.DefaultConnects / 2
	limiterEvery = session.ConnectWindow / (session.DefaultConnects - limiterBurst)
	// perAttempt is what one attempt may add to an outage besides its
	// backoff sleep: a wait for the shared limiter (one token per 1.5 s)
	// plus the longest handshake delay the schedule injects (2 s).
	perAttempt = limiterEvery + 2*time.Second
)

// backoffMax is the longest full-jitter sleep before attempt exponent n:
// min(cap, base·2^n). The sleep itself is uniform in [0, backoffMax).
func backoffMax(n int) time.Duration {
	if n >= 62 || backoffBase > backoffCap>>n {
		return backoffCap
	}
	return backoffBase << n
}

// outageBound is the longest an outage of k attempts may last when the
// backoff exponent was a at its start: every attempt sleeps at most
// backoffMax(a+j) and then waits at most perAttempt; slack covers the poll
// resolution.
func outageBound(a, k int, slack time.Duration) time.Duration {
	var d time.Duration
	for j := range k {
		d += backoffMax(a+j) + perAttempt
	}
	return d + slack
}

// attemptLimit is the most connection attempts the limiter allows in an
// outage of length d: the burst plus one per limiterEvery.
func attemptLimit(d time.Duration) int {
	return limiterBurst + int(math.Ceil(d.Seconds()/limiterEvery.Seconds()))
}

// outage is one period with a ringfeed connection down, from its
// connection_up gauge and connects_total{result="ok"} counter.
type outage struct {
	conn       int
	start, end time.Time
	attempts   int  // reconnect attempts it took (the successful one included)
	merged     bool // several outages ended within one poll; attempts split
	exp        int  // reconstructed backoff exponent at its first attempt
	bound      time.Duration
	limit      int
}

func (o *outage) dur() time.Duration { return o.end.Sub(o.start) }

// connTrack follows one ringfeed connection across polls.
type connTrack struct {
	up      bool
	downAt  time.Time // start of the current outage (the last poll that saw it up)
	upSince time.Time // start of the current connection
	ok      float64
	att     float64 // reconnect attempts when the last outage ended
	exp     int     // backoff exponent the session's loop holds now
}

// trackConns updates the per-connection trackers from one scrape and
// returns the outages that ended in it. The session's loop resets its
// exponent after a connection that lived HealthyAfter; a life within a
// second of that is taken as unhealthy, the assumption that gives the
// larger (looser) bound.
func trackConns(cs []*connTrack, m samples, prev, now time.Time, poll time.Duration) []outage {
	var ended []outage
	for i, c := range cs {
		up := m.conn("ringfeed_connection_up", i) == 1
		ok := m.conn("ringfeed_connects_total", i, "result", "ok")
		att := m.conn("ringfeed_reconnect_attempts_total", i)
		if c.up && !up {
			c.downAt = prev
		}
		if k := int(ok - c.ok); k > 0 && c.ok > 0 {
			start := c.downAt
			if c.up || start.IsZero() {
				// Down and up again between two polls.
				start = prev
			}
			attempts := int(att - c.att)
			for j := range k {
				n := attempts / k
				if j == k-1 {
					n = attempts - (k-1)*(attempts/k)
				}
				n = max(n, 1)
				life := start.Sub(c.upSince)
				a := c.exp
				if life >= healthyAfter+time.Second {
					a = 0
				}
				o := outage{conn: i, start: start, end: now, attempts: n, merged: k > 1, exp: a}
				o.bound = outageBound(a, n, 2*poll+500*time.Millisecond)
				o.limit = attemptLimit(o.dur() + poll)
				ended = append(ended, o)
				c.exp = a + n
				c.upSince = now
			}
			c.downAt = time.Time{}
			if !up {
				c.downAt = now // down again already
			}
			c.att = att
		}
		if c.ok == 0 && ok > 0 {
			c.upSince = now // the first connection
			c.att = att
		}
		c.up, c.ok = up, ok
	}
	return ended
}

// checkpoint is an exact count taken with the simulator paused and
// ringfeed drained: messages the simulator sent, ringfeed received
// (messages_total) and applied.
type checkpoint struct {
	t       time.Time
	sent    map[string]float64 // by ringfeed kind
	recv    map[string]float64
	applied float64
	dropped float64 // messages the reader dropped for want of ring room
}

func (c checkpoint) sentTotal() (t float64) {
	for _, v := range c.sent {
		t += v
	}
	return t
}

func (c checkpoint) recvTotal() (t float64) {
	for _, v := range c.recv {
		t += v
	}
	return t
}

// segment is the span between two checkpoints. It is clean when no fault
// was injected in it and no fault window (the hook stall's included) was
// open at any poll in it.
type segment struct {
	from, to time.Time
	clean    bool
	faults   []int
	sent     float64
	lost     float64            // sent − applied
	lostBy   map[string]float64 // sent − received, by kind
	ringLost float64            // dropped for want of ring room
}

func (s segment) String() string {
	return fmt.Sprintf("%s..%s clean=%v faults=%v sent=%.0f lost=%.0f ring=%.0f by=%v",
		s.from.Format("15:04:05.000"), s.to.Format("15:04:05.000"), s.clean, s.faults, s.sent, s.lost, s.ringLost, s.lostBy)
}

func newSegment(a, b checkpoint, clean bool, faults []int) segment {
	s := segment{from: a.t, to: b.t, clean: clean, faults: faults, lostBy: map[string]float64{}}
	s.sent = b.sentTotal() - a.sentTotal()
	s.lost = s.sent - (b.applied - a.applied)
	for k := range b.sent {
		s.lostBy[k] = (b.sent[k] - a.sent[k]) - (b.recv[k] - a.recv[k])
	}
	s.ringLost = b.dropped - a.dropped
	return s
}

// sentByKind maps the simulator's per-"category.kind" message counts to
// ringfeed's kinds.
func sentByKind(st bybitsim.Stats, category string) map[string]float64 {
	out := map[string]float64{}
	for _, k := range msgKinds {
		out[k[1]] = float64(st.Messages[category+"."+k[0]])
	}
	return out
}
