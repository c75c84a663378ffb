package book

import "errors"

// ErrStale is returned by End, ApplyDelta and ApplySnapshot when a message
// was ignored because the book was already stale before it arrived. The
// reason the book went stale is Book.Reason; only a snapshot cures it.
var ErrStale = errors.New("book: stale; message ignored until the next snapshot")

// ErrDuplicate is returned by End, ApplyDelta and ApplySnapshot when a
// live book dropped a delta whose u was not above the last message's (a
// duplicate or older delta, counted in Counters.Duplicates). The book is
// unchanged and stays live.
var ErrDuplicate = errors.New("book: duplicate or older delta dropped")

// Reason says why a book is stale. It is an enum with a stable String form
// meant as a metric label.
//
// Reason also implements error: End returns the Reason itself when a
// message makes a live book stale, so callers can branch with == or
// errors.Is without the error allocating (a one-byte value in an interface
// does not allocate). As with syscall.Errno, fmt prints a Reason through
// Error (the sentence); call String for the label.
type Reason uint8

// The stale reasons. ReasonNoSnapshot is the state of a new or Reset book;
// the others are transitions counted in Counters.StaleBy.
const (
	ReasonNone                Reason = iota // live: not stale
	ReasonNoSnapshot                        // no snapshot yet (new book, after Reset)
	ReasonDeltaBeforeSnapshot               // a delta arrived before any snapshot
	ReasonGap                               // delta u skipped ahead (Strict: u > previous+1)
	ReasonOutOfOrder                        // not produced since duplicate or older deltas are dropped (ErrDuplicate); kept so labels stay stable
	ReasonSeqBackwards                      // delta seq went below the previous message's seq
	ReasonCrossed                           // best bid >= best ask after a message
	ReasonIncomplete                        // a split message was not finished (delta during a snapshot, level outside a message)
	ReasonDropped                           // caller: an event for this book was dropped
	ReasonBadNumber                         // caller: a number did not parse; or a negative size reached the book
	ReasonResync                            // caller: resync requested
	ReasonSilent                            // caller: the stream went silent (no message past its threshold)

	numReasons
)

// NumReasons is the number of Reason values, for arrays indexed by Reason.
const NumReasons = int(numReasons)

var reasonNames = [numReasons]string{
	ReasonNone:                "none",
	ReasonNoSnapshot:          "no_snapshot",
	ReasonDeltaBeforeSnapshot: "delta_before_snapshot",
	ReasonGap:                 "gap",
	ReasonOutOfOrder:          "out_of_order",
	ReasonSeqBackwards:        "seq_backwards",
	ReasonCrossed:             "crossed",
	ReasonIncomplete:          "incomplete",
	ReasonDropped:             "dropped",
	ReasonBadNumber:           "bad_number",
	ReasonResync:              "resync",
	ReasonSilent:              "silent",
}

var reasonErrors = [numReasons]string{
	ReasonNone:                "book: not stale",
	ReasonNoSnapshot:          "book: stale: no snapshot yet",
	ReasonDeltaBeforeSnapshot: "book: stale: delta before any snapshot",
	ReasonGap:                 "book: stale: gap in update id u",
	ReasonOutOfOrder:          "book: stale: update id u did not increase",
	ReasonSeqBackwards:        "book: stale: seq went backwards",
	ReasonCrossed:             "book: stale: crossed book",
	ReasonIncomplete:          "book: stale: split message incomplete",
	ReasonDropped:             "book: stale: event dropped",
	ReasonBadNumber:           "book: stale: bad number",
	ReasonResync:              "book: stale: resync requested",
	ReasonSilent:              "book: stale: stream silent",
}

// String returns the short label of r ("gap", "crossed", ...), or
// "unknown" for a value out of range.
func (r Reason) String() string {
	if r >= numReasons {
		return "unknown"
	}
	return reasonNames[r]
}

// Error returns a sentence naming the reason, prefixed "book: stale: ".
func (r Reason) Error() string {
	if r >= numReasons {
		return "book: stale: unknown reason"
	}
	return reasonErrors[r]
}

// GapPolicy selects how delta update ids are checked.
type GapPolicy uint8

const (
	// Strict requires each delta's u to be the previous message's u plus
	// one, as Bybit's depth streams do (a snapshot uses up a u too).
	Strict GapPolicy = iota
	// Monotonic only requires u to increase; for feeds that skip ids.
	Monotonic
)

// String returns "strict" or "monotonic".
func (p GapPolicy) String() string {
	switch p {
	case Strict:
		return "strict"
	case Monotonic:
		return "monotonic"
	}
	return "unknown"
}

// Counters are cumulative event counts of one book. Reset does not clear
// them, so they can feed monotonic metrics. Read them on the owner goroutine.
type Counters struct {
	Snapshots     uint64 // snapshots applied (including u == 1 restarts)
	Restarts      uint64 // messages with u == 1 (service restart), applied as snapshots
	Deltas        uint64 // deltas applied
	Ignored       uint64 // deltas not applied: the book was or became stale at Begin
	Levels        uint64 // level changes applied by deltas (set, replace or delete)
	Gaps          uint64 // u continuity breaks (ReasonGap)
	Duplicates    uint64 // duplicate or older deltas dropped (ErrDuplicate), the book live
	Crosses       uint64 // messages that left the book crossed
	AbsentDeletes uint64 // deltas deleting a price the book did not hold (tolerated)
	Evictions     uint64 // levels removed by the depth cap
	Abandoned     uint64 // split messages cut short by a new snapshot, a delta or MarkStale

	// StaleBy counts transitions from live to stale by reason.
	StaleBy [NumReasons]uint64
}
