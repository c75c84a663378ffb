package tape

import (
	"slices"

	"github.com/ringfeed/ringfeed/parse"
)

// Anchor identifies the newest trade held before a loss: a refill that
// returns it (or something older) closed the gap. The zero Anchor means the
// tape held nothing then.
type Anchor struct {
	ID   [parse.TradeIDMax]byte
	Len  uint8
	Time int64
}

// AnchorOf returns the anchor for the tape's current newest trade.
func (t *Tape) AnchorOf() Anchor {
	var a Anchor
	if tr := t.Newest(); tr != nil {
		a.ID, a.Len, a.Time = tr.IDBuf, tr.IDLen, tr.Time
	}
	return a
}

// Set reports whether the anchor names a trade.
func (a *Anchor) Set() bool { return a.Len > 0 }

// Refilled is what a Refill did.
type Refilled struct {
	// Added trades were not held before; they are in the tape now,
	// unless older than its capacity reaches.
	Added []parse.Trade
	// Reached: the REST answer reaches back to the anchor (or, without an
	// anchor, returned fewer trades than asked for, so it holds all
	// Bybit keeps). When false, trades between GapFrom and GapTo (fill
	// times, ms) may be lost for good.
	Reached        bool
	GapFrom, GapTo int64
}

// Refill merges rows, a REST answer newest first (GET
// /v5/market/recent-trade; seqs[i] is rows[i]'s seq, or 0), into the tape:
// held trades older than the answer stay before it, held trades newer than
// it (taped while the call was in flight) after it, and a held trade with
// an id in rows is kept once. limit is the number of trades asked for;
// anchor is the newest trade held before the loss (AnchorOf, taken then).
func (t *Tape) Refill(rows []parse.Trade, seqs []int64, limit int, anchor Anchor) Refilled {
	type item struct {
		tr       parse.Trade
		seq      int64
		refilled bool
	}
	var res Refilled
	if len(rows) == 0 {
		res.Reached = true // Bybit has no trade the tape lacks
		return res
	}
	inRows := make(map[string]bool, len(rows))
	fresh := make([]item, 0, len(rows)) // oldest first
	for i := len(rows) - 1; i >= 0; i-- {
		id := string(rows[i].ID())
		if inRows[id] {
			continue
		}
		inRows[id] = true
		fresh = append(fresh, item{rows[i], seqs[i], true})
	}
	oldest, newest := fresh[0].tr.Time, fresh[len(fresh)-1].tr.Time

	held := make([]item, t.n)             // oldest first
	heldIDs := make(map[string]bool, t.n) // id → came from a refill
	first, last := -1, -1
	for i := range t.n {
		tr, seq := t.At(t.n - 1 - i)
		held[i] = item{*tr, seq, t.refilledAt(t.n - 1 - i)}
		id := string(tr.ID())
		heldIDs[id] = held[i].refilled
		if inRows[id] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	var before, inside, after []item
	for i, h := range held {
		if inRows[string(h.tr.ID())] {
			continue // REST's copy takes its place
		}
		switch {
		case first >= 0 && i < first, first < 0 && h.tr.Time <= newest:
			before = append(before, h)
		case first >= 0 && i > last, first < 0:
			after = append(after, h)
		default:
			inside = append(inside, h) // between refilled trades: by time
		}
	}
	block := append(fresh, inside...)
	slices.SortStableFunc(block, func(a, b item) int {
		switch {
		case a.tr.Time < b.tr.Time:
			return -1
		case a.tr.Time > b.tr.Time:
			return 1
		}
		return 0
	})
	merged := append(append(before, block...), after...)
	if len(merged) > len(t.buf) {
		merged = merged[len(merged)-len(t.buf):]
	}
	t.Reset()
	for _, m := range merged {
		// A trade held before keeps its flag (one the stream delivered
		// stays the stream's: a later repeat of it is the exchange's).
		wasRefilled, held := heldIDs[string(m.tr.ID())]
		t.push(&m.tr, m.seq, (m.refilled && !held) || wasRefilled)
		if !held {
			res.Added = append(res.Added, m.tr)
			t.total++
		}
	}
	// A short answer is everything Bybit keeps; a full one reaches the
	// loss only if it holds the anchor or something older.
	res.Reached = len(rows) < limit
	if anchor.Set() {
		res.Reached = res.Reached || inRows[string(anchor.ID[:anchor.Len])] || oldest < anchor.Time
		res.GapFrom = anchor.Time
	}
	if !res.Reached {
		res.GapTo = oldest
	}
	return res
}
