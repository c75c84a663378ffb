package ringfeed

import (
	"bytes"

	"github.com/ringfeed/ringfeed/parse"
)

// tapeDedupScan is how many of the newest trades a new trade's id is
// compared with. Bybit repeats a trade only when a batch is split across
// messages, so a repeat is always among the last few trades; 64 covers any
// batch seen in captures while keeping the check a bounded scan.
const tapeDedupScan = 64

// Tape is a fixed-capacity ring of the newest trades of one symbol, written
// by its processor only. Trades whose id was already taped recently are
// dropped and counted.
type Tape struct {
	buf   []parse.Trade
	seqs  []int64
	head  int // index of the next write
	n     int
	dups  uint64
	total uint64
}

// NewTape returns a tape of capacity trades, allocated once.
func NewTape(capacity int) *Tape {
	return &Tape{buf: make([]parse.Trade, capacity), seqs: make([]int64, capacity)}
}

// Add appends t unless it repeats a recent trade id; it reports whether the
// trade was new.
func (t *Tape) Add(tr *parse.Trade, seq int64) bool {
	id := tr.ID()
	c := len(t.buf)
	for i, k := 0, t.head; i < t.n && i < tapeDedupScan; i++ {
		k--
		if k < 0 {
			k = c - 1
		}
		if len(id) > 0 && bytes.Equal(t.buf[k].ID(), id) {
			t.dups++
			return false
		}
	}
	t.buf[t.head] = *tr
	t.seqs[t.head] = seq
	t.head++
	if t.head == c {
		t.head = 0
	}
	if t.n < c {
		t.n++
	}
	t.total++
	return true
}

// Len is the number of trades held.
func (t *Tape) Len() int { return t.n }

// Dups is the number of repeated trades dropped.
func (t *Tape) Dups() uint64 { return t.dups }

// Total is the number of trades taped since creation.
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

// Reset empties the tape, keeping its storage.
func (t *Tape) Reset() { t.head, t.n = 0, 0 }
