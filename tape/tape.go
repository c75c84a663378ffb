// Package tape keeps the trade tape of one symbol: a fixed-capacity ring of
// its newest trades, as Bybit's publicTrade.{symbol} topic delivers them,
// deduplicated by trade id, and refilled from REST after a loss.
//
// Trades are held in the order they were taped, which is time order for a
// stream and for a refill. Add drops a trade whose id the tape already
// holds among the trades at least as new as it (by fill time, and always
// among the newest tapeDedupScan): Bybit repeats a trade when it splits a
// batch across messages, and after a refill the stream may deliver trades
// the refill already inserted. Refill merges the newest trades a REST call
// returned (GET /v5/market/recent-trade) with what the tape holds, in time
// order, and reports whether they reach back to the trade held before the
// loss, so the caller can count what could not be recovered.
//
// Contract:
//   - Allocation: Add, At, Newest and Reset do not allocate; New allocates
//     the ring once; Refill is a cold path and allocates.
//   - Latency: Add compares the new trade's id with the newest trades only
//     (tapeDedupScan, more only for a trade older than the tape's newest).
//   - Concurrency: a Tape is owned by one goroutine (its processor), which
//     alone may call its methods.
//   - Memory: At and Newest return pointers into the ring, valid until the
//     next Add, Refill or Reset.
package tape

import (
	"bytes"
	"encoding/binary"

	"github.com/ringfeed/ringfeed/parse"
)

// tapeDedupScan is how many of the newest trades a new trade's id is always
// compared with. Bybit repeats a trade only when a batch is split across
// messages, so a repeat is among the last few trades; 64 covers any batch
// seen in captures while keeping the check a bounded scan. A trade older
// than the newest held one (a stream catching up after a refill) is
// compared with every held trade at least as new as it.
const tapeDedupScan = 64

// Tape is a fixed-capacity ring of the newest trades of one symbol, written
// by its processor only. Trades whose id was already taped are dropped and
// counted.
type Tape struct {
	buf  []parse.Trade
	seqs []int64
	// fps holds a fingerprint of each slot's trade id (idPrint), so the
	// dedup scan compares 8 bytes per held trade from one dense array
	// and reads a trade's id only when the fingerprints match: comparing
	// the ids themselves touched two cache lines per held trade, ~0.5 µs
	// per trade (BenchmarkAdd).
	fps      []uint64
	refilled []bool // the slot's trade came from Refill, not the stream
	head     int    // index of the next write
	n        int
	dups     uint64
	overlaps uint64
	total    uint64
}

// Outcome is what Add did with a trade.
type Outcome uint8

const (
	// Taped: the trade was new and is on the tape.
	Taped Outcome = iota
	// Repeat: the stream repeated a trade it had delivered (a batch
	// split across messages); dropped, counted in Dups.
	Repeat
	// Overlap: the stream delivered a trade a Refill had already put on
	// the tape (it was still on its way when REST answered); dropped,
	// counted in Overlaps, not a repeat by the exchange.
	Overlap
)

var outcomeNames = [...]string{"taped", "repeat", "overlap"}

// String returns "taped", "repeat" or "overlap".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// New returns a tape of capacity trades, allocated once. It panics if
// capacity < 1.
func New(capacity int) *Tape {
	if capacity < 1 {
		panic("tape: New: capacity must be >= 1")
	}
	return &Tape{buf: make([]parse.Trade, capacity), seqs: make([]int64, capacity), fps: make([]uint64, capacity), refilled: make([]bool, capacity)}
}

// Add appends t unless it repeats a held trade id (see the package
// comment), and says which.
func (t *Tape) Add(tr *parse.Trade, seq int64) Outcome {
	if k := t.find(tr.ID(), tr.Time); k >= 0 {
		if t.refilled[k] {
			t.overlaps++
			return Overlap
		}
		t.dups++
		return Repeat
	}
	t.push(tr, seq, false)
	t.total++
	return Taped
}

// find returns the slot of a trade with id among the newest tapeDedupScan
// trades or the trades at least as new as time, or -1.
func (t *Tape) find(id []byte, time int64) int {
	if len(id) == 0 {
		return -1
	}
	fp := idPrint(id)
	// The newest tapeDedupScan trades: their prints, newest first, as at
	// most two dense runs of fps (the ring wraps).
	m := min(t.n, tapeDedupScan)
	lo := max(t.head-m, 0)
	for k := t.head - 1; k >= lo; k-- {
		if t.fps[k] == fp && bytes.Equal(t.buf[k].ID(), id) {
			return k
		}
	}
	c := len(t.buf)
	for k := c - 1; k >= c-(m-(t.head-lo)); k-- {
		if t.fps[k] == fp && bytes.Equal(t.buf[k].ID(), id) {
			return k
		}
	}
	// Older ones while they are at least as new as the trade.
	for i, k := m, t.head-m; i < t.n; i++ {
		k--
		if k < 0 {
			k += c
		}
		if t.buf[k].Time < time {
			return -1
		}
		if t.fps[k] == fp && bytes.Equal(t.buf[k].ID(), id) {
			return k
		}
	}
	return -1
}

// idPrint is a trade id's fingerprint: its length and its first and last
// eight bytes, mixed. Ids that differ anywhere in those bytes (UUIDs at
// their start, sequential numeric ids at their end) get different prints;
// equal prints are confirmed by comparing the ids.
func idPrint(id []byte) uint64 {
	n := len(id)
	if n < 8 {
		var b [8]byte
		copy(b[:], id)
		return binary.LittleEndian.Uint64(b[:])*0x9e3779b97f4a7c15 ^ uint64(n)
	}
	a := binary.LittleEndian.Uint64(id)
	z := binary.LittleEndian.Uint64(id[n-8:])
	return (a*0x9e3779b97f4a7c15 ^ z) + uint64(n)
}

func (t *Tape) push(tr *parse.Trade, seq int64, refilled bool) {
	t.buf[t.head] = *tr
	t.seqs[t.head] = seq
	t.fps[t.head] = idPrint(tr.ID())
	t.refilled[t.head] = refilled
	t.head++
	if t.head == len(t.buf) {
		t.head = 0
	}
	if t.n < len(t.buf) {
		t.n++
	}
}

// Len is the number of trades held.
func (t *Tape) Len() int { return t.n }

// Cap is the tape's capacity.
func (t *Tape) Cap() int { return len(t.buf) }

// Dups is the number of repeated trades dropped (Repeat).
func (t *Tape) Dups() uint64 { return t.dups }

// Overlaps is the number of stream trades dropped because a refill had
// taped them already (Overlap).
func (t *Tape) Overlaps() uint64 { return t.overlaps }

// Total is the number of trades taped since creation, refilled ones
// included.
func (t *Tape) Total() uint64 { return t.total }

// At returns the i-th newest trade (0 is the newest) and its seq; the
// pointer is valid until the next Add.
func (t *Tape) At(i int) (*parse.Trade, int64) {
	if i < 0 || i >= t.n {
		return nil, 0
	}
	k := t.head - 1 - i
	if k < 0 {
		k += len(t.buf)
	}
	return &t.buf[k], t.seqs[k]
}

// refilledAt reports whether the i-th newest trade came from a refill.
func (t *Tape) refilledAt(i int) bool {
	k := t.head - 1 - i
	if k < 0 {
		k += len(t.buf)
	}
	return t.refilled[k]
}

// Newest returns the newest trade, or nil when the tape is empty.
func (t *Tape) Newest() *parse.Trade {
	tr, _ := t.At(0)
	return tr
}

// Reset empties the tape, keeping its storage.
func (t *Tape) Reset() { t.head, t.n = 0, 0 }
