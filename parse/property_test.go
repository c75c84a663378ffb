package parse

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPropertyBookRoundTrip: random books, formatted as Bybit JSON in the
// shapes of each category (trimmed or full-scale decimals, key orders,
// whitespace, escapes, extra level elements), parse back to the same
// levels and header.
func TestPropertyBookRoundTrip(t *testing.T) {
	propertyBookRoundTrip(t, 0, 300)
}

func propertyBookRoundTrip(t *testing.T, seed uint64, iterations int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(2024, 12+seed))
	syms := NewSymbols()
	p := NewParser(syms)
	sink := newSink(2*1000/LevelsPerEvent + 2)
	for it := range iterations {
		ps, ss := rng.IntN(9), rng.IntN(9)
		name := "SYM" + itoa(it)
		id, err := syms.Add(name, ps, ss)
		if err != nil {
			t.Fatal(err)
		}
		nb, na := rng.IntN(60), rng.IntN(60)
		if it%10 == 0 {
			nb, na = rng.IntN(1001), rng.IntN(1001)
		}
		mid := rng.Int64N(1e13) + 1e10
		bids, asks := randBook(rng, nb, na, mid)
		g := genBook{
			depth: []int{1, 25, 50, 200, 1000}[rng.IntN(5)], sym: name, snapshot: rng.IntN(2) == 0,
			ts: rng.Int64N(1e13), cts: rng.Int64N(1e13), u: rng.Int64N(1e9), seq: rng.Int64N(1e12),
			bids: bids, asks: asks, ps: ps, ss: ss, trim: rng.IntN(2) == 0, shape: rng.IntN(3),
			extraElement: rng.IntN(8) == 0, whitespace: rng.IntN(4) == 0, escapedPrices: rng.IntN(8) == 0,
		}
		frame := g.frame()
		sink.reset()
		r, err := p.Parse(frame, int64(it), sink)
		if err != nil {
			t.Fatalf("iteration %d: %v\n%.300s", it, err, frame)
		}
		evs := sink.events()
		gotB, gotA := levelsOf(t, evs)
		if !slices.Equal(gotB, bids) || !slices.Equal(gotA, asks) {
			t.Fatalf("iteration %d: levels differ (scales %d/%d, trim %v)", it, ps, ss, g.trim)
		}
		e := &evs[0]
		wantCTS, wantSeq := g.cts, g.seq
		if g.shape == 2 {
			wantCTS, wantSeq = 0, 0
		}
		if r.Sym != id || e.Sym != id || int(e.Depth) != g.depth || e.Is(Snapshot) != g.snapshot || e.TS != g.ts ||
			e.CTS != wantCTS || e.U != g.u || e.Seq != wantSeq || e.RecvNs != int64(it) {
			t.Fatalf("iteration %d: got header %+v; want %+v", it, e, g)
		}
	}
}

// TestPropertyTradesRoundTrip does the same for trade batches.
func TestPropertyTradesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	syms := testSymbols(t)
	p := NewParser(syms)
	sink := newSink(64)
	for it := range 200 {
		n := 1 + rng.IntN(40)
		want := make([]Trade, n)
		seqs := make([]int64, n)
		frame := []byte(`{"topic":"publicTrade.XRPUSDT","type":"snapshot","ts":1,"data":[`)
		for i := range want {
			tr := &want[i]
			tr.Time = rng.Int64N(1e13)
			tr.Price = rng.Int64N(1e9) + 1
			tr.Size = rng.Int64N(1e9) + 1
			tr.Side = Side(1 + rng.IntN(2))
			tr.Tick = TickDirection(rng.IntN(5))
			tr.BlockTrade = rng.IntN(2) == 0
			tr.RPI = rng.IntN(2) == 0
			id := AppendDecimal(nil, rng.Int64(), 0)
			tr.IDLen = uint8(copy(tr.IDBuf[:], id))
			seqs[i] = rng.Int64N(1e12)
			if i > 0 {
				frame = append(frame, ',')
			}
			frame = append(frame, `{"T":`...)
			frame = AppendDecimal(frame, tr.Time, 0)
			frame = append(frame, `,"s":"XRPUSDT","S":"`...)
			frame = append(frame, tr.Side.String()...)
			frame = append(frame, `","p":"`...)
			frame = append(frame, fmtDec(tr.Price, 4, rng.IntN(2) == 0)...)
			frame = append(frame, `","v":"`...)
			frame = append(frame, fmtDec(tr.Size, 0, false)...)
			if tr.Tick != TickNone {
				frame = append(frame, `","L":"`...)
				frame = append(frame, tr.Tick.String()...)
			}
			frame = append(frame, `","i":"`...)
			frame = append(frame, id...)
			frame = append(frame, `","BT":`...)
			frame = append(frame, []string{"false", "true"}[b2i(tr.BlockTrade)]...)
			frame = append(frame, `,"RPI":`...)
			frame = append(frame, []string{"false", "true"}[b2i(tr.RPI)]...)
			frame = append(frame, `,"seq":`...)
			frame = AppendDecimal(frame, seqs[i], 0)
			frame = append(frame, '}')
		}
		frame = append(frame, "]}"...)
		sink.reset()
		r, err := p.Parse(frame, 0, sink)
		if err != nil || r.Events != n {
			t.Fatalf("iteration %d: got %+v, %v; want %d events", it, r, err, n)
		}
		for i, e := range sink.events() {
			if e.Trade != want[i] || e.Seq != seqs[i] || e.Sym != 5 {
				t.Fatalf("iteration %d trade %d: got %+v seq %d; want %+v seq %d", it, i, e.Trade, e.Seq, want[i], seqs[i])
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
