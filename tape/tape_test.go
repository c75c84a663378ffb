package tape

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/ringfeed/ringfeed/parse"
)

// mk makes trade number n at fill time n*10 ms (id "n").
func mk(n int) parse.Trade {
	var tr parse.Trade
	tr.Time = int64(n) * 10
	tr.Price = int64(n)
	tr.IDLen = uint8(copy(tr.IDBuf[:], strconv.Itoa(n)))
	return tr
}

// ids lists the tape's trade ids, oldest first.
func ids(t *Tape) []string {
	out := make([]string, 0, t.Len())
	for i := t.Len() - 1; i >= 0; i-- {
		tr, _ := t.At(i)
		out = append(out, string(tr.ID()))
	}
	return out
}

func seqIDs(from, to int) []string {
	var out []string
	for n := from; n <= to; n++ {
		out = append(out, strconv.Itoa(n))
	}
	return out
}

// rows returns trades from..to newest first, as REST answers.
func rows(from, to int) ([]parse.Trade, []int64) {
	var trs []parse.Trade
	var seqs []int64
	for n := to; n >= from; n-- {
		trs = append(trs, mk(n))
		seqs = append(seqs, int64(n))
	}
	return trs, seqs
}

func addRange(t *Tape, from, to int) {
	for n := from; n <= to; n++ {
		tr := mk(n)
		t.Add(&tr, int64(n))
	}
}

func TestAddDedup(t *testing.T) {
	tp := New(500)
	addRange(tp, 1, 200)
	// A split batch repeats the last trade: dropped.
	tr := mk(200)
	if got := tp.Add(&tr, 200); got != Repeat {
		t.Errorf("repeat of the newest trade: got %v; want Repeat", got)
	}
	// A trade 100 back, with its own (older) time, as a stream catching
	// up after a refill delivers it: every held trade at least as new is
	// checked, not only the newest 64.
	old := mk(100)
	if got := tp.Add(&old, 100); got != Repeat {
		t.Errorf("id 100 at its own time: got %v; want Repeat", got)
	}
	// The same id with a newer time is only checked against the newest
	// 64 (no stream does this).
	old.Time = 5000
	if got := tp.Add(&old, 0); got != Taped {
		t.Errorf("id 100 with a newer time: got %v; want Taped (beyond the bounded scan)", got)
	}
	if got := tp.Dups(); got != 2 {
		t.Errorf("Dups: got %d; want 2", got)
	}
	if tp.Len() != 201 || tp.Total() != 201 {
		t.Errorf("Len %d Total %d; want 201 201", tp.Len(), tp.Total())
	}
}

// TestRefill covers where refilled trades go and what Reached says.
func TestRefill(t *testing.T) {
	for _, tc := range []struct {
		name           string
		cap            int
		heldBefore     [2]int // trades held before the loss
		heldAfter      [2]int // trades the stream delivered after it (0,0: none)
		rest           [2]int // what REST answers (newest first)
		limit          int
		want           []string
		added          int
		reached        bool
		gapFrom, gapTo int64
	}{
		{
			name: "loss in the middle, answer overlaps both sides",
			cap:  100, heldBefore: [2]int{1, 10}, heldAfter: [2]int{21, 25},
			rest: [2]int{5, 25}, limit: 21,
			want: seqIDs(1, 25), added: 10, reached: true,
		},
		{
			name: "stream delivered more while the call was in flight",
			cap:  100, heldBefore: [2]int{1, 10}, heldAfter: [2]int{21, 30},
			rest: [2]int{8, 26}, limit: 19,
			want: seqIDs(1, 30), added: 10, reached: true,
		},
		{
			name: "answer does not reach the anchor: a gap",
			cap:  100, heldBefore: [2]int{1, 5}, heldAfter: [2]int{51, 55},
			rest: [2]int{46, 55}, limit: 10,
			want: append(seqIDs(1, 5), seqIDs(46, 55)...), added: 5, reached: false,
			gapFrom: 50, gapTo: 460,
		},
		{
			name: "short answer is all Bybit has",
			cap:  100, rest: [2]int{1, 7}, limit: 60,
			want: seqIDs(1, 7), added: 7, reached: true,
		},
		{
			name: "capacity keeps the newest",
			cap:  8, heldBefore: [2]int{1, 4}, heldAfter: [2]int{12, 13},
			rest: [2]int{3, 13}, limit: 11,
			want: seqIDs(6, 13), added: 6, reached: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := New(tc.cap)
			if tc.heldBefore[1] > 0 {
				addRange(tp, tc.heldBefore[0], tc.heldBefore[1])
			}
			anchor := tp.AnchorOf()
			if tc.heldAfter[1] > 0 {
				addRange(tp, tc.heldAfter[0], tc.heldAfter[1])
			}
			trs, seqs := rows(tc.rest[0], tc.rest[1])
			res := tp.Refill(trs, seqs, tc.limit, anchor)
			if got := ids(tp); !slices.Equal(got, tc.want) {
				t.Errorf("tape: got %v; want %v", got, tc.want)
			}
			if len(res.Added) != tc.added || res.Reached != tc.reached {
				t.Errorf("got %d added, reached %v; want %d, %v", len(res.Added), res.Reached, tc.added, tc.reached)
			}
			if !tc.reached && (res.GapFrom != tc.gapFrom || res.GapTo != tc.gapTo) {
				t.Errorf("gap: got %d..%d; want %d..%d", res.GapFrom, res.GapTo, tc.gapFrom, tc.gapTo)
			}
			// The seq travels with its trade.
			for i := range tp.Len() {
				tr, seq := tp.At(i)
				if want, _ := strconv.Atoi(string(tr.ID())); seq != int64(want) {
					t.Fatalf("At(%d): trade %s with seq %d", i, tr.ID(), seq)
				}
			}
		})
	}
}

// TestRefillThenStreamCatchesUp: after a refill the stream delivers, from
// the ring's backlog, trades the refill inserted, far more than the newest
// 64 back: every one is dropped as a repeat.
func TestRefillThenStreamCatchesUp(t *testing.T) {
	tp := New(1000)
	addRange(tp, 1, 10)
	anchor := tp.AnchorOf()
	trs, seqs := rows(1, 400)
	res := tp.Refill(trs, seqs, 1000, anchor)
	if !res.Reached || len(res.Added) != 390 {
		t.Fatalf("got reached %v added %d; want true 390", res.Reached, len(res.Added))
	}
	for n := 11; n <= 400; n++ {
		tr := mk(n)
		if got := tp.Add(&tr, int64(n)); got != Overlap {
			t.Fatalf("backlog trade %d: got %v; want Overlap (a trade the refill taped)", n, got)
		}
	}
	// A trade the stream had delivered before the refill, repeated:
	// the exchange's repeat, not an overlap.
	tr := mk(10)
	if got := tp.Add(&tr, 10); got != Repeat {
		t.Errorf("repeat of stream trade 10: got %v; want Repeat", got)
	}
	if tp.Overlaps() != 390 || tp.Dups() != 1 {
		t.Errorf("Overlaps %d Dups %d; want 390 and 1", tp.Overlaps(), tp.Dups())
	}
	addRange(tp, 401, 402)
	if got := ids(tp); !slices.Equal(got, seqIDs(1, 402)) {
		t.Errorf("tape: got %d trades %v…; want 1..402 once each", len(got), got[:min(5, len(got))])
	}
}

func ExampleTape_Refill() {
	tp := New(100)
	for _, n := range []int{1, 2, 3} { // taped before a loss
		tr := mk(n)
		tp.Add(&tr, 0)
	}
	anchor := tp.AnchorOf()
	tr := mk(7) // taped after it
	tp.Add(&tr, 0)
	// REST answers the newest five trades, newest first.
	rest, seqs := rows(3, 7)
	res := tp.Refill(rest, seqs, 5, anchor)
	fmt.Println(ids(tp), len(res.Added), res.Reached)
	// Output: [1 2 3 4 5 6 7] 3 true
}

func ExampleTape_Add() {
	tp := New(3)
	for _, n := range []int{1, 2, 2, 3, 4} { // 2 repeated, as a split batch does
		tr := mk(n)
		tp.Add(&tr, int64(n))
	}
	fmt.Println(ids(tp), tp.Dups(), tp.Total())
	// Output: [2 3 4] 1 4
}

// TestFindMatchesScan checks the fingerprinted dedup scan against the
// rule it implements, compared id by id over the held trades: the
// newest tapeDedupScan always, older ones while at least as new as the
// trade. Small capacities make the ring wrap at every offset; ids from a
// small pool (short numeric ones and UUID-length ones sharing prefixes
// and suffixes) make repeats and fingerprint neighbours common.
func TestFindMatchesScan(t *testing.T) {
	want := func(tp *Tape, id []byte, time int64) bool {
		for i := range tp.Len() {
			tr, _ := tp.At(i)
			if i >= tapeDedupScan && tr.Time < time {
				return false
			}
			if string(tr.ID()) == string(id) {
				return true
			}
		}
		return false
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, capacity := range []int{1, 3, 63, 64, 65, 100, 200} {
		tp := New(capacity)
		for n := range 5000 {
			var tr parse.Trade
			tr.Time = int64(n/4 - rng.IntN(40))
			var id string
			switch k := rng.IntN(300); rng.IntN(3) {
			case 0:
				id = strconv.Itoa(k)
			case 1:
				id = fmt.Sprintf("0f7041ee-9560-5cef-a77a-dcb91245%04d", k)
			default:
				id = fmt.Sprintf("%04d41ee-9560-5cef-a77a-dcb9124501cc", k)
			}
			tr.IDLen = uint8(copy(tr.IDBuf[:], id))
			seen := want(tp, tr.ID(), tr.Time)
			if got := tp.Add(&tr, int64(n)) != Taped; got != seen {
				t.Fatalf("capacity %d, add %d (id %s): repeat %v; want %v", capacity, n, id, got, seen)
			}
		}
	}
}
