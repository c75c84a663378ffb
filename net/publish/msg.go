package publish

import (
	"github.com/ringfeed/ringfeed/parse"
)

// Op says what a Msg carries and which of its parts are meaningful.
type Op uint8

// The operations a processor hands to the publisher.
const (
	OpNone Op = iota
	// OpDelta: book levels a message changed, as applied (size 0 deletes).
	// A delta longer than LevelsPerSlot runs over consecutive slots from
	// First to Last; N, set on the Last slot, numbers the whole message.
	OpDelta
	// OpSnapshot: the whole book, best first, bids then asks, over
	// consecutive slots from First to Last. N is the number of the last
	// update it includes.
	OpSnapshot
	// OpStale: the book went stale (Reason, a book.Reason).
	OpStale
	// OpTrade: one new trade (Trade).
	OpTrade
	// OpKline: the current state of one candle (Candle, Interval).
	OpKline
	// OpTicker: the whole merged ticker (Ticker; Stale in Reason != 0).
	OpTicker
)

// LevelsPerSlot is the number of book levels one Msg holds: the parser's
// LevelsPerEvent, so one parsed event becomes at most one slot.
const LevelsPerSlot = parse.LevelsPerEvent

// Flags of a multi-slot message, the parser's First and Last.
const (
	First = parse.First
	Last  = parse.Last
)

// Msg is one fixed-size, pointer-free ring slot from a processor to the
// publisher. The processor fills only the header and the part Op names
// (about 100 bytes plus the levels written for a book slot); the rest
// keeps what an earlier use of the slot left and must not be read.
type Msg struct {
	Op       Op
	Flags    parse.Flags
	Reason   uint8 // OpStale: book.Reason; OpTicker: 1 when stale
	Interval parse.Interval
	Depth    uint16 // book stream depth
	NBids    uint16 // Levels[:NBids] are bids
	NAsks    uint16 // Levels[NBids:NBids+NAsks] are asks
	Sym      uint32 // symbol id in the engine's table
	_        uint32

	// N is the per-stream message number: 1, 2, 3 … for every update of
	// one (symbol, stream), without gaps; a consumer that sees N jump
	// missed something. Snapshots and stale repeats carry the number of
	// the last update they include.
	N      uint64
	RecvNs int64 // monotonic receive time of the frame (wsconn.Nanotime); 0 for refreshes
	TS     int64 // Bybit "ts", ms
	CTS    int64 // book "cts", ms
	U      int64 // book update id
	Seq    int64 // book seq, ticker cs, trade seq

	Levels [LevelsPerSlot]parse.Level
	Candle parse.Candle
	Ticker parse.Ticker
	Trade  parse.Trade
}

// Bids returns the bid levels of a book slot, a slice of the slot's array.
func (m *Msg) Bids() []parse.Level { return m.Levels[:m.NBids] }

// Asks returns the ask levels of a book slot.
func (m *Msg) Asks() []parse.Level { return m.Levels[m.NBids : m.NBids+m.NAsks] }
