package book

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the reference the property and fuzz tests hold the Book to: each
// side is a plain map from price to size, sorted only when compared, and
// the consistency rules are written out as directly as the package
// documentation states them.
type model struct {
	depth  int
	policy GapPolicy

	sides   [2]map[int64]int64
	hdr     Header
	lastSeq int64
	pending Header
	state   msgState
	stale   bool
	reason  Reason
	endErr  error
	bad     bool
	cnt     Counters
}

func newModel(cfg Config) *model {
	return &model{
		depth:  cfg.Depth,
		policy: cfg.Policy,
		sides:  [2]map[int64]int64{{}, {}},
		stale:  true,
		reason: ReasonNoSnapshot,
	}
}

func (m *model) mark(r Reason) error {
	if m.stale {
		return ErrStale
	}
	m.stale, m.reason = true, r
	m.cnt.StaleBy[r]++
	return r
}

func (m *model) beginSnapshot(h Header) {
	if m.state == msgSnapshot || m.state == msgDelta {
		m.cnt.Abandoned++
	}
	if h.U == 1 {
		m.cnt.Restarts++
	}
	m.sides = [2]map[int64]int64{{}, {}}
	m.pending, m.state = h, msgSnapshot
	m.stale, m.reason, m.endErr, m.bad = false, ReasonNone, nil, false
}

// beginDelta follows Book.BeginDelta step for step on purpose: the model
// restates the rules independently of the Book so the property and fuzz
// tests can catch the Book departing from them; do not share the code.
func (m *model) beginDelta(h Header) {
	if h.U == 1 {
		m.beginSnapshot(h)
		return
	}
	m.endErr, m.bad = nil, false
	if m.state == msgSnapshot || m.state == msgDelta {
		m.abandon()
		m.cnt.Ignored++
		m.endErr = m.mark(ReasonIncomplete)
		return
	}
	m.state = msgSkip
	if m.stale {
		m.cnt.Ignored++
		if m.reason == ReasonNoSnapshot {
			m.reason = ReasonDeltaBeforeSnapshot
			m.cnt.StaleBy[ReasonDeltaBeforeSnapshot]++
			m.endErr = ReasonDeltaBeforeSnapshot
		}
		return
	}
	if h.U <= m.hdr.U {
		m.cnt.Duplicates++
		m.endErr = ErrDuplicate
		return
	}
	var r Reason
	switch {
	case m.policy == Strict && h.U != m.hdr.U+1:
		r = ReasonGap
	case h.Seq != 0 && h.Seq < m.lastSeq:
		r = ReasonSeqBackwards
	}
	if r != ReasonNone {
		m.cnt.Ignored++
		if r != ReasonSeqBackwards {
			m.cnt.Gaps++
		}
		m.endErr = m.mark(r)
		return
	}
	m.pending, m.state = h, msgDelta
}

func (m *model) set(side Side, lv Level) {
	switch m.state {
	case msgNone:
		m.state = msgSkip
		m.cnt.Ignored++
		m.endErr = nil
		if !m.stale {
			m.endErr = m.mark(ReasonIncomplete)
		}
	case msgSnapshot:
		if lv.Size > 0 {
			m.sides[side][lv.Price] = lv.Size
		} else if lv.Size < 0 {
			m.bad = true
		}
	case msgDelta:
		m.cnt.Levels++
		switch {
		case lv.Size > 0:
			m.sides[side][lv.Price] = lv.Size
		case lv.Size == 0:
			if _, ok := m.sides[side][lv.Price]; !ok {
				m.cnt.AbsentDeletes++
			}
			delete(m.sides[side], lv.Price)
		default:
			m.bad = true
		}
	}
}

// sorted returns side s best first.
func (m *model) sorted(s Side) []Level { return sortedSide(m.sides[s], s) }

func (m *model) end() error {
	switch m.state {
	case msgNone:
		if m.stale {
			return ErrStale
		}
		return m.mark(ReasonIncomplete)
	case msgSkip:
		m.state = msgNone
		err := m.endErr
		m.endErr = nil
		if err == nil {
			err = ErrStale
		}
		return err
	}
	if m.state == msgSnapshot {
		m.cnt.Snapshots++
		m.lastSeq = m.pending.Seq
	} else {
		m.cnt.Deltas++
		if m.pending.Seq != 0 {
			m.lastSeq = m.pending.Seq
		}
	}
	m.state = msgNone
	m.trim()
	m.hdr = m.pending
	if m.bad {
		m.bad = false
		return m.mark(ReasonBadNumber)
	}
	bids, asks := m.sorted(Bid), m.sorted(Ask)
	if len(bids) > 0 && len(asks) > 0 && bids[0].Price >= asks[0].Price {
		m.cnt.Crosses++
		return m.mark(ReasonCrossed)
	}
	return nil
}

// trim removes the worst levels beyond the cap.
func (m *model) trim() {
	if m.depth == 0 {
		return
	}
	for s := range 2 {
		lv := m.sorted(Side(s))
		for _, w := range lv[min(m.depth, len(lv)):] {
			delete(m.sides[s], w.Price)
			m.cnt.Evictions++
		}
	}
}

func (m *model) abandon() {
	m.cnt.Abandoned++
	m.state = msgSkip
	m.trim()
}

func (m *model) markStale(r Reason) bool {
	if m.state == msgSnapshot || m.state == msgDelta {
		m.abandon()
		m.endErr = nil
	}
	return m.mark(r) != ErrStale
}

func (m *model) reset() {
	m.sides = [2]map[int64]int64{{}, {}}
	m.hdr, m.pending, m.state, m.lastSeq = Header{}, Header{}, msgNone, 0
	m.stale, m.reason, m.endErr, m.bad = true, ReasonNoSnapshot, nil, false
}

// opKind names one call on the Book's API.
type opKind uint8

const (
	opBeginSnapshot opKind = iota
	opBeginDelta
	opSet
	opSetLevels
	opEnd
	opMarkStale
	opReset
	numOps
)

type op struct {
	kind   opKind
	h      Header
	side   Side
	levels []Level
	reason Reason
}

func (o op) String() string {
	switch o.kind {
	case opBeginSnapshot:
		return fmt.Sprintf("BeginSnapshot(%+v)", o.h)
	case opBeginDelta:
		return fmt.Sprintf("BeginDelta(%+v)", o.h)
	case opSet:
		return fmt.Sprintf("Set(%v, %v)", o.side, o.levels[0])
	case opSetLevels:
		return fmt.Sprintf("SetLevels(%v, %v)", o.side, o.levels)
	case opEnd:
		return "End()"
	case opMarkStale:
		return fmt.Sprintf("MarkStale(%v)", o.reason)
	case opReset:
		return "Reset()"
	}
	return "?"
}

// harness drives a Book and a model with the same calls and compares them
// at every message boundary.
type harness struct {
	t    testing.TB
	b    *Book
	m    *model
	log  []op // recent ops, printed on failure
	step int
	buf  []Level
}

func newHarness(t testing.TB, cfg Config) *harness {
	return &harness{t: t, b: New(cfg), m: newModel(cfg), buf: make([]Level, 0, 256)}
}

func (h *harness) fail(format string, args ...any) {
	h.t.Helper()
	start := max(0, len(h.log)-12)
	msg := fmt.Sprintf(format, args...)
	h.t.Fatalf("step %d: %s\nlast ops:\n%v", h.step, msg, h.log[start:])
}

func (h *harness) do(o op) {
	h.t.Helper()
	h.step++
	h.log = append(h.log, o)
	if len(h.log) > 64 {
		h.log = append(h.log[:0], h.log[len(h.log)-16:]...)
	}
	switch o.kind {
	case opBeginSnapshot:
		h.b.BeginSnapshot(o.h)
		h.m.beginSnapshot(o.h)
	case opBeginDelta:
		h.b.BeginDelta(o.h)
		h.m.beginDelta(o.h)
	case opSet:
		h.b.Set(o.side, o.levels[0])
		h.m.set(o.side, o.levels[0])
	case opSetLevels:
		h.b.SetLevels(o.side, o.levels)
		for _, lv := range o.levels {
			h.m.set(o.side, lv)
		}
	case opEnd:
		got, want := h.b.End(), h.m.end()
		if got != want {
			h.fail("End() = %v; want %v", got, want)
		}
		h.check()
	case opMarkStale:
		got, want := h.b.MarkStale(o.reason), h.m.markStale(o.reason)
		if got != want {
			h.fail("MarkStale(%v) = %v; want %v", o.reason, got, want)
		}
		h.check()
	case opReset:
		h.b.Reset()
		h.m.reset()
		h.check()
	}
}

// check compares the whole observable state of the book with the model.
func (h *harness) check() {
	h.t.Helper()
	b, m := h.b, h.m
	for _, s := range []Side{Bid, Ask} {
		want := m.sorted(s)
		if got := b.Len(s); got != len(want) {
			h.fail("Len(%v) = %d; want %d", s, got, len(want))
		}
		if m.depth > 0 && len(want) > m.depth {
			h.fail("%v side holds %d levels; cap %d", s, len(want), m.depth)
		}
		h.buf = h.buf[:0]
		b.Ascend(s, func(lv Level) bool { h.buf = append(h.buf, lv); return true })
		if !slices.Equal(h.buf, want) {
			h.fail("Ascend(%v) = %v; want %v", s, h.buf, want)
		}
		n := min(len(want), 7)
		top := make([]Level, 7)
		if got := b.CopyTop(s, top); got != n || !slices.Equal(top[:n], want[:n]) {
			h.fail("CopyTop(%v) = %d %v; want %d %v", s, got, top[:got], n, want[:n])
		}
		var sum int64
		for _, lv := range want[:min(len(want), 3)] {
			sum += lv.Size
		}
		if got := b.SizeWithin(s, 3); got != sum {
			h.fail("SizeWithin(%v, 3) = %d; want %d", s, got, sum)
		}
		best, ok := b.Best(s)
		if ok != (len(want) > 0) || (ok && best != want[0]) {
			h.fail("Best(%v) = %v %v; want %v", s, best, ok, want)
		}
	}
	if b.Stale() != m.stale || b.Reason() != m.reason {
		h.fail("Stale, Reason = %v, %v; want %v, %v", b.Stale(), b.Reason(), m.stale, m.reason)
	}
	if b.Header() != m.hdr {
		h.fail("Header() = %+v; want %+v", b.Header(), m.hdr)
	}
	if b.Counters() != m.cnt {
		h.fail("Counters() = %+v; want %+v", b.Counters(), m.cnt)
	}
	q, ok := b.Top().Load()
	if !ok {
		h.fail("Top().Load() failed with no concurrent writer")
	}
	var wq Quote
	if bids := m.sorted(Bid); len(bids) > 0 {
		wq.BidPrice, wq.BidSize = bids[0].Price, bids[0].Size
	}
	if asks := m.sorted(Ask); len(asks) > 0 {
		wq.AskPrice, wq.AskSize = asks[0].Price, asks[0].Size
	}
	wq.U, wq.Seq, wq.TS, wq.CTS, wq.Stale = m.hdr.U, m.hdr.Seq, m.hdr.TS, m.hdr.CTS, m.stale
	if q != wq {
		h.fail("Top().Load() = %+v; want %+v", q, wq)
	}
}

// gen produces random, mostly well-formed Bybit-like message streams with
// faults mixed in: gaps, duplicates, u == 1 restarts, crossing levels,
// deletes of absent prices, negative sizes, split snapshots cut short,
// levels outside messages, caller marks and resets.
type gen struct {
	r      *rand.Rand
	u      int64
	seq    int64
	ts     int64
	spread int64 // half-width of the price universe around mid
}

const genMid = 10_000

func (g *gen) header(u int64) Header {
	g.seq += 1 + g.r.Int64N(50)
	g.ts += 1 + g.r.Int64N(20)
	return Header{U: u, Seq: g.seq, TS: g.ts, CTS: g.ts - g.r.Int64N(5)}
}

// level returns a level of side s: deleted with probability del%; cross
// makes it land on the wrong side of the mid, so it may cross the book;
// neg gives it a negative size.
func (g *gen) level(s Side, del int, cross, neg bool) Level {
	off := 1 + g.r.Int64N(g.spread)
	if cross {
		off = -g.r.Int64N(3)
	}
	p := genMid - off
	if s == Ask {
		p = genMid + off
	}
	size := 1 + g.r.Int64N(1000)
	switch {
	case neg:
		size = -size
	case g.r.IntN(100) < del:
		size = 0
	}
	return Level{p, size}
}

// levels returns n levels of side s; faults are rarer in snapshots, which
// are longer, so that books spend most of the stream live.
func (g *gen) levels(s Side, n int, snapshot bool) []Level {
	out := make([]Level, n)
	for i := range out {
		if snapshot {
			out[i] = g.level(s, 1, g.r.IntN(8000) == 0, g.r.IntN(20000) == 0)
		} else {
			out[i] = g.level(s, 30, g.r.IntN(600) == 0, g.r.IntN(2000) == 0)
		}
	}
	return out
}

// body emits the levels of one message, whole or split into pieces and
// single levels.
func (g *gen) body(ops []op, n int, snapshot bool) []op {
	for _, s := range []Side{Bid, Ask} {
		lv := g.levels(s, g.r.IntN(n+1), snapshot)
		for len(lv) > 0 {
			if g.r.IntN(4) == 0 {
				ops = append(ops, op{kind: opSet, side: s, levels: lv[:1]})
				lv = lv[1:]
				continue
			}
			k := 1 + g.r.IntN(len(lv))
			ops = append(ops, op{kind: opSetLevels, side: s, levels: lv[:k]})
			lv = lv[k:]
		}
	}
	return ops
}

// next appends the ops of one event.
func (g *gen) next(ops []op) []op {
	switch x := g.r.IntN(1000); {
	case x < 60: // snapshot, whole or split
		u := g.u + 1
		switch g.r.IntN(6) {
		case 0:
			u = 1
		case 1:
			u = g.u // depth-1 re-send with the same u
		}
		g.u = u
		ops = append(ops, op{kind: opBeginSnapshot, h: g.header(u)})
		ops = g.body(ops, 3*int(g.spread)/2, true)
		if g.r.IntN(16) == 0 { // cut short: the next event interrupts it
			return ops
		}
		return append(ops, op{kind: opEnd})
	case x < 65:
		return append(ops, op{kind: opMarkStale, reason: ReasonDropped + Reason(g.r.IntN(int(numReasons-ReasonDropped)))})
	case x < 68:
		// After a resubscription the stream's u carries on; the first
		// message may well be a delta, which the book must refuse.
		return append(ops, op{kind: opReset})
	case x < 71: // a level outside any message
		return append(ops, op{kind: opSet, side: Side(g.r.IntN(2)), levels: g.levels(Bid, 1, false)})
	case x < 73:
		return append(ops, op{kind: opEnd})
	}
	u := g.u + 1
	switch y := g.r.IntN(1000); {
	case y < 4:
		u = g.u + 2 + g.r.Int64N(3) // gap
	case y < 7:
		u = g.u - g.r.Int64N(2) // duplicate or rewind
	case y < 8:
		u = 1 // restart sent as a delta
	}
	h := g.header(u)
	switch g.r.IntN(500) {
	case 0:
		h.Seq -= 1000 // seq backwards
	case 1, 2, 3:
		h.Seq = 0 // seq absent (options in 2023)
	}
	g.u = max(g.u, u)
	if u == 1 {
		g.u = 1
	}
	ops = append(ops, op{kind: opBeginDelta, h: h})
	ops = g.body(ops, 6, false)
	if g.r.IntN(200) == 0 {
		return ops // cut short
	}
	return append(ops, op{kind: opEnd})
}
