package main

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// hookStallKind names the fault ringfeed injects into itself
// (--chaos-hook-stall); the driver detects it from hook_seconds_total.
const hookStallKind = "hook-stall"

// faultKinds returns every fault kind the simulator has, in its order.
func faultKinds() []bybitsim.FaultKind {
	var ks []bybitsim.FaultKind
	for k := bybitsim.FaultKind(0); k < 64; k++ {
		if strings.HasPrefix(k.String(), "fault(") {
			break
		}
		ks = append(ks, k)
	}
	return ks
}

// planned is one scheduled fault: when, which kind, and the random draws
// its parameters and target come from. The draws are made up front so the
// schedule is a pure function of the seed; which connection or topic a
// draw lands on depends on what is connected at that moment.
type planned struct {
	at   time.Duration // since the start of the run
	kind bybitsim.FaultKind
	r    [3]uint64
}

// plan draws the schedule for [from, to): gaps uniform in
// [0.5, 1.5)/rate seconds, kinds in rounds (a seeded permutation of every
// kind per round) so that each kind recurs once per round. Uniform gaps
// instead of exponential ones keep the count per run predictable, so a
// short run still covers every kind.
func plan(seed uint64, rate float64, from, to time.Duration) []planned {
	rng := rand.New(rand.NewPCG(seed, 0x50a650a6))
	kinds := faultKinds()
	var out []planned
	var perm []int
	t := from
	for {
		t += time.Duration((0.5 + rng.Float64()) / rate * float64(time.Second))
		if t >= to {
			return out
		}
		if len(perm) == 0 {
			perm = rng.Perm(len(kinds))
		}
		p := planned{at: t, kind: kinds[perm[0]]}
		perm = perm[1:]
		for i := range p.r {
			p.r[i] = rng.Uint64()
		}
		out = append(out, p)
	}
}

// faultRec is a fault as injected (or skipped) and its window: from
// injection until its nominal duration has passed, its target connection
// (for faults that kill one) is gone, and ringfeed is healthy again.
type faultRec struct {
	id      int
	kind    string
	spec    string // bybitsim.Fault.String(), or the hook stall's length
	at      time.Time
	nominal time.Duration
	kills   bool    // the fault ends its target connection
	conn    string  // target connection (simulator conn_id)
	rfConn  int     // ringfeed's index of that connection; -1 if none
	pings   float64 // ringfeed's pings sent on rfConn before the fault
	// mayKill: a stall swallowed one of ringfeed's pings, so ringfeed
	// will give up on the connection PongTimeout after sending it.
	mayKill bool
	targets int    // what Inject reported
	skipped string // why it was not injected; "" when it was

	bad       int       // polls in the window with ringfeed unhealthy
	goodAgain time.Time // first healthy poll after the last unhealthy one

	closed   time.Time // zero while open
	timedOut bool      // closed by the window bound, not by recovery
	isolated bool      // no other window overlapped this one
	before   map[string]float64
	after    map[string]float64
}

func (f *faultRec) open() bool { return f.skipped == "" && f.closed.IsZero() }

// windowEnd is the closing time, or now for an open window.
func (f *faultRec) windowEnd(now time.Time) time.Time {
	if f.closed.IsZero() {
		return now
	}
	return f.closed
}

// maxWindow bounds a fault window: a fault whose effects last longer is
// closed as timed out (and reported).
const maxWindow = 90 * time.Second

// settle is how long after its nominal end a window stays open at least:
// the resync or reconnect a fault provokes takes a few round trips.
const settle = time.Second

// build turns a planned fault into a bybitsim.Fault against the current
// connections and topics. ok is false (with a reason) when there is no
// target right now.
func build(p planned, conns []bybitsim.ConnInfo, maxMessage int) (f bybitsim.Fault, kills bool, why string) {
	f.Kind = p.kind
	r1, r2 := p.r[1], p.r[2]
	ms := func(lo, hi uint64) time.Duration { return time.Duration(lo+r1%(hi-lo+1)) * time.Millisecond }
	pickConn := func() bool {
		if len(conns) == 0 {
			return false
		}
		f.Conn = conns[p.r[0]%uint64(len(conns))].ID
		return true
	}
	pickTopic := func(match func(string) bool) bool {
		var cand []string
		var cat []string
		for _, c := range conns {
			for _, t := range c.Topics {
				if match(t) && !slices.Contains(cand, t) {
					cand = append(cand, t)
					cat = append(cat, c.Category)
				}
			}
		}
		if len(cand) == 0 {
			return false
		}
		i := p.r[0] % uint64(len(cand))
		f.Topic, f.Category = cand[i], cat[i]
		return true
	}
	isBook := func(t string) bool { return strings.HasPrefix(t, "orderbook.") }
	// Skip, cross: orderbook.1 carries snapshots only, there is no delta
	// to withhold or replace.
	hasDeltas := func(t string) bool { return isBook(t) && !strings.HasPrefix(t, "orderbook.1.") }
	anyTopic := func(string) bool { return true }
	noTarget := "no target connected"
	switch p.kind {
	case bybitsim.FaultDropMessages:
		f.N = 1 + int(r1%1000)
		return f, true, reason(pickConn(), noTarget)
	case bybitsim.FaultDropAfter:
		f.D = ms(10, 5000)
		return f, true, reason(pickConn(), noTarget)
	case bybitsim.FaultStall:
		f.D = ms(100, 3000)
	case bybitsim.FaultOversize:
		f.Size = 256<<10 + int(r1%(2<<20-256<<10))
		kills = f.Size > maxMessage
	case bybitsim.FaultFragment:
		// Most data messages are a few hundred bytes: sizes below that
		// split nearly every message.
		f.Size, f.Ping = 64+int(r1%961), r2%2 == 0
	case bybitsim.FaultServerPing:
		f.D = ms(1000, 5000)
	case bybitsim.FaultSlowReader:
		f.Size = 4096 << (r1 % 5)
	case bybitsim.FaultGarbage, bybitsim.FaultBinary:
	case bybitsim.FaultSkipDelta, bybitsim.FaultCrossDelta, bybitsim.FaultDuplicateDelta:
		return f, false, reason(pickTopic(hasDeltas), noTarget)
	case bybitsim.FaultRestart:
		return f, false, reason(pickTopic(isBook), noTarget)
	case bybitsim.FaultSilence:
		// One in four silences outlasts orderbook.1's 10 s silence
		// threshold, so the silence resubscribe is exercised too.
		if r2%4 == 0 && pickTopic(func(t string) bool { return strings.HasPrefix(t, "orderbook.1.") }) {
			f.D = time.Duration(10500+r1%1500) * time.Millisecond
			return f, false, ""
		}
		f.D = ms(500, 5000)
		return f, false, reason(pickTopic(anyTopic), noTarget)
	case bybitsim.FaultMute:
		// Past the topic's silence threshold ringfeed marks the stream
		// stale and resubscribes it; the resubscribe brings no snapshot
		// until the mute ends.
		f.D = ms(500, 5000)
		return f, false, reason(pickTopic(anyTopic), noTarget)
	case bybitsim.FaultSplitTrades:
		return f, false, reason(pickTopic(func(t string) bool { return strings.HasPrefix(t, "publicTrade.") }), noTarget)
	case bybitsim.FaultRejectTopic:
		f.N = 1
		return f, false, reason(pickTopic(anyTopic), noTarget)
	case bybitsim.FaultRefuseHandshake:
		f.N, f.Status = 1+int(r1%3), []int{429, 403}[r2%2]
		return f, false, ""
	case bybitsim.FaultDelayHandshake:
		// The delay applies to the next handshake; the run provokes one
		// by dropping a connection (see runner.inject).
		f.N, f.D = 1, ms(100, 2000)
		return f, true, reason(pickConn(), noTarget)
	}
	return f, kills, reason(pickConn(), noTarget)
}

func reason(ok bool, why string) string {
	if ok {
		return ""
	}
	return why
}

// nominal is how long a fault acts by itself.
func nominal(f bybitsim.Fault) time.Duration {
	switch f.Kind {
	case bybitsim.FaultDropAfter, bybitsim.FaultStall, bybitsim.FaultSilence:
		return f.D
	}
	return 0
}
