package ringfeed

import (
	"math/bits"
	"sync/atomic"

	"github.com/ringfeed/ringfeed/parse"
)

// tickerState is one symbol's merged ticker, owned by its processor.
type tickerState struct {
	topic string
	t     parse.Ticker
	ts    int64 // ts of the last message merged
	cs    int64 // cross sequence of the last message merged
	// stale: a delta was lost or the connection was replaced; the next
	// snapshot makes the ticker whole again.
	stale      bool
	lastResync int64 // Nanotime of the last resync request
	// live is the published negation of stale, for /healthz: stored here
	// when a snapshot cures the ticker, copied from stale at every
	// housekeeping pass otherwise (liveness.go).
	live atomic.Bool
	// silent: the topic went silent; cleared by its next message.
	silent    staleFlag
	snapshots uint64
	deltas    uint64
	pubN      uint64 // number of the last ticker handed to the publisher
}

// apply merges a ticker event field by field: a snapshot replaces the
// ticker, a delta overwrites exactly the fields it carries. A field that
// changes to zero is present in the delta, so it overwrites (presence, not
// value, decides).
func (s *tickerState) apply(ev *parse.Event) {
	in := &ev.Ticker
	if ev.Flags&parse.Snapshot != 0 {
		s.t = *in
		s.stale = false
		if !s.live.Load() {
			s.live.Store(true)
		}
		s.snapshots++
	} else {
		m := in.Present
		for m != 0 {
			f := bits.TrailingZeros64(m)
			m &= m - 1
			s.t.Values[f] = in.Values[f]
		}
		s.t.Present |= in.Present
		// A field that arrives empty becomes empty; one that arrives
		// with a value stops being empty.
		s.t.Empty = s.t.Empty&^in.Present | in.Empty
		// A field whose new value cannot be represented is absent: its
		// old value is no longer true.
		s.t.Present &^= in.Unfit
		s.t.Unfit = s.t.Unfit&^in.Present | in.Unfit
		s.deltas++
	}
	s.silent.set(false)
	s.ts = ev.TS
	if ev.Seq != 0 {
		s.cs = ev.Seq
	}
}

// unfitTicker counts and logs (rate-limited) ticker fields whose value did
// not fit their scale: they are left absent, the rest of the message
// applied (issue 14 item 6).
func (p *processor) unfitTicker(st *symState, in *parse.Ticker) {
	p.e.unfitFields.Add(bits.OnesCount64(in.Unfit))
	if ok, n := p.e.logLimit.allow("unfit:" + st.name); ok {
		f := parse.TickerField(bits.TrailingZeros64(in.Unfit))
		p.e.log.Warn("ticker field cannot be represented; left absent", "symbol", st.name, "field", f.String(),
			"fields", bits.OnesCount64(in.Unfit), "suppressed", n)
	}
}
