// Package book keeps one price-level order book per (symbol, depth stream),
// as Bybit's v5 orderbook.{depth}.{symbol} topics describe it, and knows
// whether it is consistent.
//
// Each side is a github.com/google/btree BTreeG of Level values ordered
// best first (bids by descending price, asks by ascending), sharing one node
// free list, so a level change costs O(log n) and no re-sort, and inserts,
// deletes and snapshot reloads reuse nodes instead of allocating. The degree
// (DefaultDegree) was chosen by BenchmarkDelta; see the figures there.
// Applying a delta costs about 50 ns per level changed on a 50-level book
// and 110-130 on a 1000-level one.
// Prices and sizes are int64 fixed point; the scale is the caller's.
//
// Messages are applied whole (ApplySnapshot, ApplyDelta) or in pieces
// (BeginSnapshot or BeginDelta, then Set or SetLevels any number of times,
// then End), so a snapshot split across several ring slots is applied as it
// arrives. Between Begin and End the query methods see the message partly
// applied; the published top (Book.Top) changes only when a message ends,
// when the book goes stale, and on Reset. A size of 0 deletes a level; deleting an absent level is
// tolerated and counted. The depth cap is enforced at the end of each
// message by removing the worst levels, because Bybit sends the insert of a
// level entering the window and the delete of the one leaving it in one
// message, in no promised order.
//
// Consistency: a book is stale until its first snapshot, and goes stale
// again, with a Reason, on a u gap, a delta before any snapshot, a crossed
// book, an unfinished split message, a negative size, or the caller's
// MarkStale. While stale, deltas are ignored (counted) until a snapshot,
// which always replaces the book and clears staleness. A message with
// u == 1 is a snapshot (Bybit service restart) whatever its type. A delta
// whose u is not above the last one (a duplicate or older delta) is
// dropped and counted, and the book stays live (protocol notes §6.4): End
// returns ErrDuplicate.
//
// Contract:
//   - Allocation: none per message or per level in steady state, with the
//     depth cap set (the free list is sized for it). Without a cap the free
//     list is sized from Config.SizeHint and a book that grows past it
//     allocates nodes.
//   - Latency: O(log n) per level; see BenchmarkDelta for ns per level.
//   - Concurrency: a Book is owned by one goroutine, which alone may call its
//     methods. The free list's mutex is private to the book and never
//     contended. Other goroutines read the seqlock-published top of book
//     through Book.Top, which is safe from any goroutine.
//   - Memory: CopyTop copies into the caller's buffer; Ascend passes levels
//     by value. Nothing returned aliases the book's internals.
package book

import (
	"fmt"

	"github.com/google/btree"
)

// Level is one price level: Price and Size in the caller's fixed-point
// scales. In a delta, Size 0 deletes the level.
type Level struct {
	Price, Size int64
}

// Side selects the bid or ask side of a book.
type Side uint8

// The two sides.
const (
	Bid Side = iota
	Ask
)

// String returns "bid" or "ask".
func (s Side) String() string {
	switch s {
	case Bid:
		return "bid"
	case Ask:
		return "ask"
	}
	return "unknown"
}

// Header carries a message's stream ids and times as Bybit sends them: U is
// the per-stream update id, Seq the engine cross sequence (0 when absent),
// TS and CTS the push and matching-engine times in milliseconds.
type Header struct {
	U, Seq, TS, CTS int64
}

// DefaultDegree is the B-tree degree used when Config.Degree is 0. Chosen
// by BenchmarkDelta and BenchmarkSnapshot (table in book_bench_test.go): on
// a 50-level book, mixed deltas cost 50 ns per level at degree 32 against
// 60 at 16 and 72 at 4, because a whole side fits in one node; at 1000
// levels degrees 16-64 are within noise of each other.
const DefaultDegree = 32

// DefaultSizeHint is the levels-per-side figure that sizes the node free
// list when Config.Depth and Config.SizeHint are 0.
const DefaultSizeHint = 1000

// Config configures a Book. The zero Config is an uncapped, Strict book.
type Config struct {
	// Depth is the most levels a side keeps (50 for orderbook.50); levels
	// pushed past it are removed, worst first, at the end of each message.
	// 0 means no cap.
	Depth int
	// Policy is how delta update ids are checked; Strict by default.
	Policy GapPolicy
	// Degree is the B-tree degree; 0 means DefaultDegree.
	Degree int
	// SizeHint is the expected levels per side of an uncapped book, used
	// only to size the free list; 0 means DefaultSizeHint.
	SizeHint int
}

// msgState is where the book is within a message.
type msgState uint8

const (
	msgNone     msgState = iota // between messages
	msgSnapshot                 // loading a snapshot
	msgDelta                    // applying a delta
	msgSkip                     // ignoring a message; its levels are dropped
)

// Book is an order book. The zero Book is not usable; call New.
type Book struct {
	bids, asks *btree.BTreeG[Level]

	depth  int
	policy GapPolicy

	hdr     Header // last message applied
	lastSeq int64  // last non-zero seq since the snapshot, for ReasonSeqBackwards
	pending Header // message in progress
	msg     msgState
	stale   bool
	reason  Reason
	endErr  error // returned by End for the message in progress
	bad     bool  // a negative size arrived in the message in progress

	cnt Counters

	// State of the pre-bound iterators, so CopyTop and SizeWithin pass a
	// method value made once in New instead of a new closure per call.
	copyDst []Level
	copyN   int
	copyFn  func(Level) bool
	sumLeft int
	sum     int64
	sumFn   func(Level) bool

	top Top
}

func bidLess(a, b Level) bool { return a.Price > b.Price }
func askLess(a, b Level) bool { return a.Price < b.Price }

// New returns an empty, stale (ReasonNoSnapshot) book. It panics on a
// negative Depth or SizeHint, a Degree of 1 or less (other than 0), or an
// unknown Policy.
func New(cfg Config) *Book {
	if cfg.Depth < 0 {
		panic(fmt.Sprintf("book: Config.Depth %d is negative", cfg.Depth))
	}
	if cfg.SizeHint < 0 {
		panic(fmt.Sprintf("book: Config.SizeHint %d is negative", cfg.SizeHint))
	}
	if cfg.Policy > Monotonic {
		panic(fmt.Sprintf("book: Config.Policy %d is not Strict or Monotonic", cfg.Policy))
	}
	deg := cfg.Degree
	if deg == 0 {
		deg = DefaultDegree
	}
	if deg < 2 {
		panic(fmt.Sprintf("book: Config.Degree %d is below 2", cfg.Degree))
	}
	levels := cfg.Depth
	if levels == 0 {
		levels = cfg.SizeHint
	}
	if levels == 0 {
		levels = DefaultSizeHint
	}
	// A node holds at least deg-1 items, so a side of n levels needs at most
	// n/(deg-1)+1 nodes. Room for twice that per side covers a message that
	// inserts before the cap trims, and the nodes of a snapshot that is
	// loaded while the old tree's nodes wait in the list.
	perSide := levels/(deg-1) + 2
	free := btree.NewFreeListG[Level](4 * perSide)
	b := &Book{
		bids:   btree.NewWithFreeListG(deg, bidLess, free),
		asks:   btree.NewWithFreeListG(deg, askLess, free),
		depth:  cfg.Depth,
		policy: cfg.Policy,
		stale:  true,
		reason: ReasonNoSnapshot,
	}
	b.copyFn = b.copyLevel
	b.sumFn = b.sumLevel
	b.prewarm(2 * levels)
	b.publish()
	return b
}

// prewarm fills the free list with nodes whose slices have grown to full
// size, by building and clearing a tree of n ascending levels per side, so
// the first snapshots and the splits of later deltas find ready nodes.
func (b *Book) prewarm(n int) {
	for i := range n {
		b.bids.ReplaceOrInsert(Level{Price: int64(-i), Size: 1})
		b.asks.ReplaceOrInsert(Level{Price: int64(i), Size: 1})
	}
	b.bids.Clear(true)
	b.asks.Clear(true)
}

// tree returns the tree of side s; it panics on an unknown side, which is a
// programming error of the caller.
func (b *Book) tree(s Side) *btree.BTreeG[Level] {
	switch s {
	case Bid:
		return b.bids
	case Ask:
		return b.asks
	}
	panic(fmt.Sprintf("book: side %d is neither Bid nor Ask", s))
}

// BeginSnapshot starts a snapshot with header h: the book is cleared, its
// staleness lifted, and the levels that follow (Set, SetLevels) load it
// until End. A snapshot in progress that was not ended is abandoned and
// counted; the new one supersedes it.
func (b *Book) BeginSnapshot(h Header) {
	if b.msg == msgSnapshot || b.msg == msgDelta {
		b.cnt.Abandoned++
	}
	if h.U == 1 {
		// Bybit restarted the stream (or changed the tick size): the
		// caller may want to reload instrument scales; Header().U tells.
		b.cnt.Restarts++
	}
	b.bids.Clear(true)
	b.asks.Clear(true)
	b.pending = h
	b.msg = msgSnapshot
	b.stale = false
	b.reason = ReasonNone
	b.endErr = nil
	b.bad = false
}

// BeginDelta starts a delta with header h. If h.U is 1 the message is a
// snapshot (Bybit restarted the stream) and BeginDelta acts as
// BeginSnapshot. Otherwise the delta is checked against the book's state
// and the gap policy; if it cannot be applied, its levels are ignored and
// End reports why (the Reason when the book just went stale, ErrStale when
// it already was). model_test.go's model.beginDelta restates these steps
// on purpose, as the independent reference the property tests check.
func (b *Book) BeginDelta(h Header) {
	if h.U == 1 {
		b.BeginSnapshot(h)
		return
	}
	b.endErr = nil
	b.bad = false
	if b.msg == msgSnapshot || b.msg == msgDelta {
		// The previous split message never ended: whatever it applied is
		// partial, so the book cannot be trusted.
		b.abandon()
		b.cnt.Ignored++
		b.endErr = b.markStale(ReasonIncomplete)
		return
	}
	b.msg = msgSkip
	if b.stale {
		b.cnt.Ignored++
		if b.reason == ReasonNoSnapshot {
			// Waiting for a first snapshot is normal; a delta before it
			// means the subscription is out of step, so say so once.
			b.reason = ReasonDeltaBeforeSnapshot
			b.cnt.StaleBy[ReasonDeltaBeforeSnapshot]++
			b.endErr = ReasonDeltaBeforeSnapshot
		}
		return
	}
	if h.U <= b.hdr.U {
		// A duplicate or older delta (protocol notes §6.4): what it
		// says is already in the book; drop it, count it, stay live.
		b.cnt.Duplicates++
		b.endErr = ErrDuplicate
		return
	}
	if r := b.checkIDs(h); r != ReasonNone {
		b.cnt.Ignored++
		if r == ReasonGap {
			b.cnt.Gaps++
		}
		b.endErr = b.markStale(r)
		return
	}
	b.pending = h
	b.msg = msgDelta
}

// checkIDs checks a newer delta's u against the last message's under the
// gap policy, and its seq (when present) against the last seq seen.
func (b *Book) checkIDs(h Header) Reason {
	last := b.hdr.U
	switch {
	case b.policy == Strict && h.U != last+1:
		return ReasonGap
	case h.Seq != 0 && h.Seq < b.lastSeq:
		return ReasonSeqBackwards
	}
	return ReasonNone
}

// Set applies one level of the message in progress: in a delta, size 0
// deletes the price and any other size inserts or replaces it; in a
// snapshot, size 0 levels are skipped. A negative size makes End mark the
// book stale with ReasonBadNumber. A level outside any message is a lost
// Begin: a live book goes stale (ReasonIncomplete) and the rest of that
// message is ignored.
func (b *Book) Set(side Side, lv Level) {
	switch b.msg {
	case msgSnapshot:
		b.load(b.tree(side), lv)
	case msgDelta:
		b.apply(b.tree(side), lv)
	case msgSkip:
		b.tree(side) // still reject a bad side
	case msgNone:
		b.tree(side)
		b.orphan()
	}
}

// SetLevels applies levels of one side in order, as Set does for each.
func (b *Book) SetLevels(side Side, levels []Level) {
	t := b.tree(side)
	switch b.msg {
	case msgSnapshot:
		for _, lv := range levels {
			b.load(t, lv)
		}
	case msgDelta:
		for _, lv := range levels {
			b.apply(t, lv)
		}
	case msgNone:
		if len(levels) > 0 {
			b.orphan()
		}
	}
}

// orphan handles levels that arrive outside any message.
func (b *Book) orphan() {
	b.msg = msgSkip
	b.cnt.Ignored++
	b.endErr = nil
	if !b.stale {
		b.endErr = b.markStale(ReasonIncomplete)
	}
}

func (b *Book) load(t *btree.BTreeG[Level], lv Level) {
	switch {
	case lv.Size > 0:
		t.ReplaceOrInsert(lv)
	case lv.Size < 0:
		b.bad = true
	}
}

func (b *Book) apply(t *btree.BTreeG[Level], lv Level) {
	b.cnt.Levels++
	switch {
	case lv.Size > 0:
		t.ReplaceOrInsert(lv)
	case lv.Size == 0:
		if _, ok := t.Delete(lv); !ok {
			b.cnt.AbsentDeletes++
		}
	default:
		b.bad = true
	}
}

// End finishes the message in progress: the depth cap is enforced, the
// header recorded, the book checked for crossing and the top of book
// published. It returns nil when the message was applied and the book is
// live; the Reason (as an error) when this message made the book stale;
// ErrStale when the message was ignored because the book already was
// stale. End outside a message makes a live book stale (ReasonIncomplete).
func (b *Book) End() error {
	switch b.msg {
	case msgNone:
		if b.stale {
			return ErrStale
		}
		return b.markStale(ReasonIncomplete)
	case msgSkip:
		b.msg = msgNone
		err := b.endErr
		b.endErr = nil
		if err == nil {
			err = ErrStale
		}
		return err
	}
	snapshot := b.msg == msgSnapshot
	b.msg = msgNone
	b.trim(b.bids)
	b.trim(b.asks)
	b.hdr = b.pending
	if snapshot {
		b.lastSeq = b.hdr.Seq
		b.cnt.Snapshots++
	} else {
		if b.hdr.Seq != 0 {
			b.lastSeq = b.hdr.Seq
		}
		b.cnt.Deltas++
	}
	if b.bad {
		b.bad = false
		return b.markStale(ReasonBadNumber)
	}
	bid, okb := b.bids.Min()
	ask, oka := b.asks.Min()
	if okb && oka && bid.Price >= ask.Price {
		b.cnt.Crosses++
		return b.markStale(ReasonCrossed)
	}
	b.publishTop(bid, ask)
	return nil
}

// ApplySnapshot replaces the book with bids and asks (each best first or in
// any order) under header h; see BeginSnapshot and End.
func (b *Book) ApplySnapshot(h Header, bids, asks []Level) error {
	b.BeginSnapshot(h)
	b.SetLevels(Bid, bids)
	b.SetLevels(Ask, asks)
	return b.End()
}

// ApplyDelta applies a delta under header h; see BeginDelta and End.
func (b *Book) ApplyDelta(h Header, bids, asks []Level) error {
	b.BeginDelta(h)
	b.SetLevels(Bid, bids)
	b.SetLevels(Ask, asks)
	return b.End()
}

// trim removes the worst levels of t beyond the depth cap.
func (b *Book) trim(t *btree.BTreeG[Level]) {
	if b.depth == 0 {
		return
	}
	for t.Len() > b.depth {
		t.DeleteMax()
		b.cnt.Evictions++
	}
}

// markStale makes the book stale for r if it is live, counts and publishes
// the transition, and returns r as the error; if it was stale already the
// first reason stays and ErrStale is returned.
func (b *Book) markStale(r Reason) error {
	if b.stale {
		return ErrStale
	}
	b.stale = true
	b.reason = r
	b.cnt.StaleBy[r]++
	b.publish()
	return r
}

// MarkStale marks the book stale for reason r (ReasonDropped,
// ReasonBadNumber, ReasonResync, ...), abandoning a split message in
// progress, and reports whether the book was live until now. An already
// stale book keeps its first reason. It panics if r is ReasonNone or out of
// range.
func (b *Book) MarkStale(r Reason) bool {
	if r == ReasonNone || r >= numReasons {
		panic(fmt.Sprintf("book: MarkStale(%d): not a stale reason", r))
	}
	if b.msg == msgSnapshot || b.msg == msgDelta {
		b.abandon()
		b.endErr = nil
	}
	return b.markStale(r) != ErrStale
}

// abandon cuts short the message in progress: the rest of it is ignored,
// and the depth cap is enforced on what it left, so the cap holds even in a
// stale book.
func (b *Book) abandon() {
	b.cnt.Abandoned++
	b.msg = msgSkip
	b.trim(b.bids)
	b.trim(b.asks)
}

// Reset empties the book and makes it stale (ReasonNoSnapshot), as after
// New; counters are kept. Use it when the stream is resubscribed.
func (b *Book) Reset() {
	b.bids.Clear(true)
	b.asks.Clear(true)
	b.hdr = Header{}
	b.lastSeq = 0
	b.pending = Header{}
	b.msg = msgNone
	b.stale = true
	b.reason = ReasonNoSnapshot
	b.endErr = nil
	b.bad = false
	b.publish()
}

// publish stores the current top of book into b.top.
func (b *Book) publish() {
	bid, _ := b.bids.Min()
	ask, _ := b.asks.Min()
	b.publishTop(bid, ask)
}

// publishTop stores bid and ask (zero Levels for empty sides) with the
// current header and stale flag into b.top.
func (b *Book) publishTop(bid, ask Level) {
	b.top.Store(Quote{
		BidPrice: bid.Price, BidSize: bid.Size,
		AskPrice: ask.Price, AskSize: ask.Size,
		U: b.hdr.U, Seq: b.hdr.Seq, TS: b.hdr.TS, CTS: b.hdr.CTS,
		Stale: b.stale,
	})
}

// Top returns the book's seqlock-published top of book, updated at the end
// of every message. The pointer stays valid for the book's life and may be
// handed to other goroutines, which call Load.
func (b *Book) Top() *Top { return &b.top }

// Stale reports whether the book is stale; Reason says why.
func (b *Book) Stale() bool { return b.stale }

// Reason returns why the book is stale, or ReasonNone when it is live.
func (b *Book) Reason() Reason { return b.reason }

// Header returns the header of the last message applied.
func (b *Book) Header() Header { return b.hdr }

// Counters returns a copy of the book's counters.
func (b *Book) Counters() Counters { return b.cnt }

// Depth returns the depth cap per side (0: none).
func (b *Book) Depth() int { return b.depth }

// Len returns the number of levels on side s.
func (b *Book) Len(s Side) int { return b.tree(s).Len() }

// Best returns the best level of side s (highest bid, lowest ask) and
// whether the side has one.
func (b *Book) Best(s Side) (Level, bool) { return b.tree(s).Min() }

// BestBid returns the highest bid and whether there is one.
func (b *Book) BestBid() (Level, bool) { return b.bids.Min() }

// BestAsk returns the lowest ask and whether there is one.
func (b *Book) BestAsk() (Level, bool) { return b.asks.Min() }

// Spread returns best ask minus best bid, and false when a side is empty.
func (b *Book) Spread() (int64, bool) {
	bid, okb := b.bids.Min()
	ask, oka := b.asks.Min()
	if !okb || !oka {
		return 0, false
	}
	return ask.Price - bid.Price, true
}

// Mid returns the mid price rounded down to the price scale (half a unit is
// lost when bid+ask is odd), and false when a side is empty. It is computed
// as bid + (ask-bid)/2 so prices near the int64 limits do not overflow.
func (b *Book) Mid() (int64, bool) {
	bid, okb := b.bids.Min()
	ask, oka := b.asks.Min()
	if !okb || !oka {
		return 0, false
	}
	d := ask.Price - bid.Price
	if d < 0 && d%2 != 0 { // crossed: floor, not truncation toward zero
		return bid.Price + d/2 - 1, true
	}
	return bid.Price + d/2, true
}

// CopyTop copies the best len(dst) levels of side s into dst, best first,
// and returns how many it copied. It does not allocate.
func (b *Book) CopyTop(s Side, dst []Level) int {
	if len(dst) == 0 {
		return 0
	}
	b.copyDst, b.copyN = dst, 0
	b.tree(s).Ascend(b.copyFn)
	n := b.copyN
	b.copyDst = nil
	return n
}

func (b *Book) copyLevel(lv Level) bool {
	b.copyDst[b.copyN] = lv
	b.copyN++
	return b.copyN < len(b.copyDst)
}

// SizeWithin returns the total size of the best n levels of side s (all of
// them if the side has fewer).
func (b *Book) SizeWithin(s Side, n int) int64 {
	if n <= 0 {
		return 0
	}
	b.sumLeft, b.sum = n, 0
	b.tree(s).Ascend(b.sumFn)
	return b.sum
}

func (b *Book) sumLevel(lv Level) bool {
	b.sum += lv.Size
	b.sumLeft--
	return b.sumLeft > 0
}

// Ascend calls fn for each level of side s, best first, until fn returns
// false. fn must not modify the book.
func (b *Book) Ascend(s Side, fn func(Level) bool) {
	b.tree(s).Ascend(fn)
}
