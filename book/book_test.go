package book

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// msg is one scripted message for the state-machine tests.
type msg struct {
	kind       byte // 's' snapshot, 'd' delta, 'm' MarkStale, 'r' Reset
	u, seq     int64
	bids, asks []Level
	reason     Reason // for 'm'

	wantErr    error  // End's result
	wantReason Reason // Reason() afterwards; ReasonNone means live
}

func lv(pairs ...int64) []Level {
	out := make([]Level, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Level{pairs[i], pairs[i+1]})
	}
	return out
}

// run applies the script and checks each step's result and stale state.
func run(t *testing.T, b *Book, script []msg) {
	t.Helper()
	for i, m := range script {
		var err error
		h := Header{U: m.u, Seq: m.seq, TS: 1000 + m.u}
		switch m.kind {
		case 's':
			err = b.ApplySnapshot(h, m.bids, m.asks)
		case 'd':
			err = b.ApplyDelta(h, m.bids, m.asks)
		case 'm':
			b.MarkStale(m.reason)
			err = m.wantErr
		case 'r':
			b.Reset()
			err = m.wantErr
		}
		if err != m.wantErr {
			t.Fatalf("step %d (%c u=%d): got error %v; want %v", i, m.kind, m.u, err, m.wantErr)
		}
		if got := b.Reason(); got != m.wantReason {
			t.Fatalf("step %d (%c u=%d): got reason %v; want %v", i, m.kind, m.u, got, m.wantReason)
		}
		if got, want := b.Stale(), m.wantReason != ReasonNone; got != want {
			t.Fatalf("step %d: got Stale() %v; want %v", i, got, want)
		}
		q, _ := b.Top().Load()
		if q.Stale != b.Stale() {
			t.Fatalf("step %d: got published Stale %v; want %v", i, q.Stale, b.Stale())
		}
	}
}

func levels(b *Book, s Side) []Level {
	var out []Level
	b.Ascend(s, func(l Level) bool { out = append(out, l); return true })
	return out
}

func TestStateMachine(t *testing.T) {
	snap := lv(100, 1, 99, 2)
	ask := lv(101, 3, 102, 4)
	f := func(name string, cfg Config, script []msg) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			run(t, New(cfg), script)
		})
	}
	f("new book waits for a snapshot", Config{}, []msg{
		{kind: 'r', wantReason: ReasonNoSnapshot},
		{kind: 's', u: 10, bids: snap, asks: ask},
	})
	f("delta before snapshot is reported once", Config{}, []msg{
		{kind: 'd', u: 11, bids: lv(100, 5), wantErr: ReasonDeltaBeforeSnapshot, wantReason: ReasonDeltaBeforeSnapshot},
		{kind: 'd', u: 12, bids: lv(100, 5), wantErr: ErrStale, wantReason: ReasonDeltaBeforeSnapshot},
		{kind: 's', u: 20, bids: snap, asks: ask},
		{kind: 'd', u: 21, bids: lv(100, 5)},
	})
	f("strict gap, ignored deltas, snapshot cures", Config{}, []msg{
		{kind: 's', u: 10, bids: snap, asks: ask},
		{kind: 'd', u: 11, bids: lv(100, 5)},
		{kind: 'd', u: 13, bids: lv(100, 6), wantErr: ReasonGap, wantReason: ReasonGap},
		{kind: 'd', u: 14, bids: lv(100, 7), wantErr: ErrStale, wantReason: ReasonGap},
		{kind: 'd', u: 15, asks: lv(90, 7), wantErr: ErrStale, wantReason: ReasonGap},
		{kind: 's', u: 16, bids: snap, asks: ask},
		{kind: 'd', u: 17, bids: lv(100, 8)},
	})
	// §6.4: a duplicate or older delta is dropped and counted; the book
	// stays live and unchanged, and the next delta continues from the
	// last u applied.
	f("strict duplicate and rewind are dropped, the book live", Config{}, []msg{
		{kind: 's', u: 10, bids: snap, asks: ask},
		{kind: 'd', u: 10, bids: lv(100, 5), wantErr: ErrDuplicate},
		{kind: 'd', u: 11, bids: lv(100, 6)},
		{kind: 'd', u: 9, bids: lv(100, 5), wantErr: ErrDuplicate},
		{kind: 'd', u: 11, bids: lv(100, 7), wantErr: ErrDuplicate},
		{kind: 'd', u: 12, asks: lv(101, 9)},
	})
	f("monotonic accepts skips, drops repeats", Config{Policy: Monotonic}, []msg{
		{kind: 's', u: 10, bids: snap, asks: ask},
		{kind: 'd', u: 15, bids: lv(100, 5)},
		{kind: 'd', u: 99, bids: lv(100, 6)},
		{kind: 'd', u: 99, bids: lv(100, 7), wantErr: ErrDuplicate},
		{kind: 'd', u: 100, bids: lv(100, 8)},
	})
	f("seq going backwards", Config{}, []msg{
		{kind: 's', u: 10, seq: 500, bids: snap, asks: ask},
		{kind: 'd', u: 11, seq: 600, bids: lv(100, 5)},
		{kind: 'd', u: 12, seq: 0, bids: lv(100, 5)}, // seq absent: not checked
		{kind: 'd', u: 13, seq: 599, bids: lv(100, 5), wantErr: ReasonSeqBackwards, wantReason: ReasonSeqBackwards},
	})
	f("u == 1 is a snapshot, whatever the type", Config{}, []msg{
		{kind: 's', u: 5000, bids: snap, asks: ask},
		{kind: 'd', u: 5002, bids: lv(100, 5), wantErr: ReasonGap, wantReason: ReasonGap},
		{kind: 'd', u: 1, bids: lv(50, 1), asks: lv(60, 1)},
		{kind: 'd', u: 2, bids: lv(51, 1)},
	})
	f("depth-1 re-sends snapshots with the same u", Config{Depth: 1}, []msg{
		{kind: 's', u: 7003305, bids: lv(100, 1), asks: lv(101, 1)},
		{kind: 's', u: 7003305, bids: lv(100, 1), asks: lv(101, 1)},
		{kind: 's', u: 7003306, bids: lv(100, 2), asks: lv(101, 1)},
		{kind: 's', u: 7003306, bids: lv(100, 2), asks: lv(101, 1)},
	})
	f("crossing delta", Config{}, []msg{
		{kind: 's', u: 10, bids: snap, asks: ask},
		{kind: 'd', u: 11, bids: lv(101, 1), wantErr: ReasonCrossed, wantReason: ReasonCrossed},
		{kind: 'd', u: 12, bids: lv(101, 0), wantErr: ErrStale, wantReason: ReasonCrossed},
	})
	f("locked book (bid == ask) is crossed", Config{}, []msg{
		{kind: 's', u: 10, bids: lv(100, 1), asks: lv(100, 1), wantErr: ReasonCrossed, wantReason: ReasonCrossed},
	})
	f("negative size", Config{}, []msg{
		{kind: 's', u: 10, bids: snap, asks: ask},
		{kind: 'd', u: 11, asks: lv(103, -1), wantErr: ReasonBadNumber, wantReason: ReasonBadNumber},
	})
	f("caller marks keep the first reason", Config{}, []msg{
		{kind: 's', u: 10, bids: snap, asks: ask},
		{kind: 'm', reason: ReasonDropped, wantReason: ReasonDropped},
		{kind: 'm', reason: ReasonResync, wantReason: ReasonDropped},
		{kind: 'd', u: 11, bids: lv(100, 5), wantErr: ErrStale, wantReason: ReasonDropped},
		{kind: 's', u: 12, bids: snap, asks: ask},
	})
	f("empty snapshot sides are live", Config{}, []msg{
		{kind: 's', u: 0},
		{kind: 'd', u: 1, bids: lv(5, 1)}, // u == 1: snapshot
		{kind: 's', u: 7},
		{kind: 'd', u: 8, asks: lv(5, 1)},
	})
}

func TestSplitMessages(t *testing.T) {
	t.Run("snapshot in pieces", func(t *testing.T) {
		b := New(Config{})
		b.BeginSnapshot(Header{U: 10})
		b.SetLevels(Bid, lv(100, 1))
		b.Set(Ask, Level{102, 2})
		b.SetLevels(Bid, lv(99, 1, 98, 1))
		b.Set(Ask, Level{101, 2})
		if err := b.End(); err != nil {
			t.Fatalf("End: got %v; want nil", err)
		}
		if got, want := levels(b, Bid), lv(100, 1, 99, 1, 98, 1); !slices.Equal(got, want) {
			t.Fatalf("bids: got %v; want %v", got, want)
		}
		if got, want := levels(b, Ask), lv(101, 2, 102, 2); !slices.Equal(got, want) {
			t.Fatalf("asks: got %v; want %v", got, want)
		}
	})
	t.Run("delta during snapshot", func(t *testing.T) {
		b := New(Config{})
		b.BeginSnapshot(Header{U: 10})
		b.SetLevels(Bid, lv(100, 1))
		b.BeginDelta(Header{U: 11})
		b.SetLevels(Bid, lv(100, 2))
		if err := b.End(); err != ReasonIncomplete {
			t.Fatalf("End: got %v; want %v", err, ReasonIncomplete)
		}
		if b.Reason() != ReasonIncomplete || b.Counters().Abandoned != 1 {
			t.Fatalf("got reason %v, abandoned %d; want incomplete, 1", b.Reason(), b.Counters().Abandoned)
		}
		if err := b.ApplySnapshot(Header{U: 12}, lv(100, 1), lv(101, 1)); err != nil || b.Stale() {
			t.Fatalf("snapshot after: got %v, stale %v; want nil, live", err, b.Stale())
		}
	})
	t.Run("snapshot restarted supersedes", func(t *testing.T) {
		b := New(Config{})
		b.BeginSnapshot(Header{U: 10})
		b.SetLevels(Bid, lv(100, 1))
		b.BeginSnapshot(Header{U: 11})
		b.SetLevels(Bid, lv(90, 1))
		if err := b.End(); err != nil {
			t.Fatalf("End: got %v; want nil", err)
		}
		if got, want := levels(b, Bid), lv(90, 1); !slices.Equal(got, want) {
			t.Fatalf("bids: got %v; want %v", got, want)
		}
	})
	t.Run("levels and End outside a message", func(t *testing.T) {
		b := New(Config{})
		if err := b.ApplySnapshot(Header{U: 1}, lv(100, 1), lv(101, 1)); err != nil {
			t.Fatal(err)
		}
		b.Set(Bid, Level{100, 5})
		if err := b.End(); err != ReasonIncomplete {
			t.Fatalf("End: got %v; want %v", err, ReasonIncomplete)
		}
		if err := b.End(); err != ErrStale {
			t.Fatalf("second End: got %v; want %v", err, ErrStale)
		}
		if got, want := levels(b, Bid), lv(100, 1); !slices.Equal(got, want) {
			t.Fatalf("orphan level applied: got %v; want %v", got, want)
		}
	})
	t.Run("MarkStale during a delta", func(t *testing.T) {
		b := New(Config{})
		if err := b.ApplySnapshot(Header{U: 5}, lv(100, 1), lv(101, 1)); err != nil {
			t.Fatal(err)
		}
		b.BeginDelta(Header{U: 6})
		b.SetLevels(Bid, lv(99, 1))
		if !b.MarkStale(ReasonDropped) {
			t.Fatal("MarkStale: got false; want true")
		}
		b.SetLevels(Bid, lv(98, 1))
		if err := b.End(); err != ErrStale {
			t.Fatalf("End: got %v; want %v", err, ErrStale)
		}
		if got, want := levels(b, Bid), lv(100, 1, 99, 1); !slices.Equal(got, want) {
			t.Fatalf("bids: got %v; want %v (levels after the mark must be ignored)", got, want)
		}
	})
}

func TestDepthCap(t *testing.T) {
	b := New(Config{Depth: 3})
	check := func(step string, bids, asks []Level, evictions, absent uint64) {
		t.Helper()
		if got := levels(b, Bid); !slices.Equal(got, bids) {
			t.Fatalf("%s: bids: got %v; want %v", step, got, bids)
		}
		if got := levels(b, Ask); !slices.Equal(got, asks) {
			t.Fatalf("%s: asks: got %v; want %v", step, got, asks)
		}
		if c := b.Counters(); c.Evictions != evictions || c.AbsentDeletes != absent {
			t.Fatalf("%s: got evictions %d absent deletes %d; want %d, %d", step, c.Evictions, c.AbsentDeletes, evictions, absent)
		}
	}
	apply := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("got %v; want nil", err)
		}
	}
	apply(b.ApplySnapshot(Header{U: 10}, lv(100, 1, 98, 1, 96, 1, 94, 1, 92, 1), lv(103, 1, 104, 1, 105, 1, 106, 1)))
	check("snapshot", lv(100, 1, 98, 1, 96, 1), lv(103, 1, 104, 1, 105, 1), 3, 0)
	// A better bid arrives and a middle one leaves in one message: the cap
	// applies to the result, so 96 stays in the window, as on Bybit.
	apply(b.ApplyDelta(Header{U: 11}, lv(101, 1, 98, 0), nil))
	check("insert+delete", lv(101, 1, 100, 1, 96, 1), lv(103, 1, 104, 1, 105, 1), 3, 0)
	apply(b.ApplyDelta(Header{U: 12}, lv(99, 1, 97, 0), lv(150, 1)))
	check("push past cap", lv(101, 1, 100, 1, 99, 1), lv(103, 1, 104, 1, 105, 1), 5, 1)
	apply(b.ApplyDelta(Header{U: 13}, lv(100, 0, 95, 2), nil))
	check("refill", lv(101, 1, 99, 1, 95, 2), lv(103, 1, 104, 1, 105, 1), 5, 1)
}

func TestQueries(t *testing.T) {
	b := New(Config{})
	if _, ok := b.Mid(); ok {
		t.Fatal("Mid on empty book: got ok; want !ok")
	}
	if _, ok := b.Spread(); ok {
		t.Fatal("Spread on empty book: got ok; want !ok")
	}
	if err := b.ApplySnapshot(Header{U: 3, Seq: 9, TS: 7, CTS: 6}, lv(100, 1, 98, 2, 97, 4), lv(103, 8, 104, 16)); err != nil {
		t.Fatal(err)
	}
	f := func(name string, got, want int64) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %d; want %d", name, got, want)
		}
	}
	mid, _ := b.Mid()
	f("Mid", mid, 101) // 101.5 rounded down
	spread, _ := b.Spread()
	f("Spread", spread, 3)
	f("SizeWithin(Bid, 2)", b.SizeWithin(Bid, 2), 3)
	f("SizeWithin(Bid, 99)", b.SizeWithin(Bid, 99), 7)
	f("SizeWithin(Ask, 0)", b.SizeWithin(Ask, 0), 0)
	f("Len(Ask)", int64(b.Len(Ask)), 2)
	bb, _ := b.BestBid()
	ba, _ := b.BestAsk()
	f("BestBid", bb.Price, 100)
	f("BestAsk", ba.Price, 103)
	dst := make([]Level, 5)
	f("CopyTop(Bid)", int64(b.CopyTop(Bid, dst)), 3)
	f("CopyTop(Ask, 1)", int64(b.CopyTop(Ask, dst[:1])), 1)
	f("CopyTop(Ask, 0)", int64(b.CopyTop(Ask, nil)), 0)
	if want := (Header{U: 3, Seq: 9, TS: 7, CTS: 6}); b.Header() != want {
		t.Errorf("Header: got %+v; want %+v", b.Header(), want)
	}
	q, ok := b.Top().Load()
	if want := (Quote{100, 1, 103, 8, 3, 9, 7, 6, false}); !ok || q != want {
		t.Errorf("Top: got %+v %v; want %+v", q, ok, want)
	}
	n := 0
	b.Ascend(Ask, func(Level) bool { n++; return false })
	f("Ascend stops", int64(n), 1)
}

func TestMidRounding(t *testing.T) {
	f := func(bid, ask, want int64) {
		t.Helper()
		b := New(Config{Depth: 1})
		b.BeginSnapshot(Header{U: 2})
		b.Set(Bid, Level{bid, 1})
		b.Set(Ask, Level{ask, 1})
		_ = b.End() // crossed books still have a mid
		if got, _ := b.Mid(); got != want {
			t.Errorf("Mid(%d, %d): got %d; want %d", bid, ask, got, want)
		}
	}
	f(100, 102, 101)
	f(100, 101, 100)
	f(-5, -2, -4)
	f(103, 100, 101) // crossed: floor(101.5)
	f(1<<62, 1<<62+2, 1<<62+1)
}

func TestStrings(t *testing.T) {
	seen := map[string]bool{}
	for r := range numReasons {
		s := r.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("Reason(%d).String() = %q; want a unique label", r, s)
		}
		seen[s] = true
		if !strings.HasPrefix(r.Error(), "book: ") {
			t.Errorf("Reason(%d).Error() = %q; want prefix \"book: \"", r, r.Error())
		}
	}
	if got := numReasons.String(); got != "unknown" {
		t.Errorf("out of range String: got %q; want unknown", got)
	}
	if got := numReasons.Error(); got != "book: stale: unknown reason" {
		t.Errorf("out of range Error: got %q", got)
	}
	for _, c := range []struct{ got, want string }{
		{Bid.String(), "bid"}, {Ask.String(), "ask"}, {Side(2).String(), "unknown"},
		{Strict.String(), "strict"}, {Monotonic.String(), "monotonic"}, {GapPolicy(9).String(), "unknown"},
	} {
		if c.got != c.want {
			t.Errorf("got %q; want %q", c.got, c.want)
		}
	}
}

func TestErrorsAreComparable(t *testing.T) {
	b := New(Config{})
	_ = b.ApplySnapshot(Header{U: 10}, nil, nil)
	err := b.ApplyDelta(Header{U: 12}, nil, nil)
	if !errors.Is(err, ReasonGap) {
		t.Fatalf("errors.Is(%v, ReasonGap): got false; want true", err)
	}
	var r Reason
	if !errors.As(fmt.Errorf("wrapped: %w", err), &r) || r != ReasonGap {
		t.Fatalf("errors.As: got %v; want %v", r, ReasonGap)
	}
	if errors.Is(ErrStale, ReasonGap) {
		t.Fatal("ErrStale matched ReasonGap")
	}
}

func TestPanics(t *testing.T) {
	f := func(name, want string, fn func()) {
		t.Helper()
		defer func() {
			t.Helper()
			got := fmt.Sprint(recover())
			if !strings.Contains(got, want) {
				t.Errorf("%s: got panic %q; want one containing %q", name, got, want)
			}
		}()
		fn()
	}
	f("negative depth", "Config.Depth -1", func() { New(Config{Depth: -1}) })
	f("degree 1", "Config.Degree 1", func() { New(Config{Degree: 1}) })
	f("negative hint", "Config.SizeHint -3", func() { New(Config{SizeHint: -3}) })
	f("policy", "Config.Policy 7", func() { New(Config{Policy: 7}) })
	f("mark none", "MarkStale(0)", func() { New(Config{}).MarkStale(ReasonNone) })
	f("mark out of range", "MarkStale(200)", func() { New(Config{}).MarkStale(200) })
	f("bad side", "side 2", func() { New(Config{}).Len(2) })
	f("bad side in Set", "side 3", func() { New(Config{}).Set(3, Level{}) })
}

func TestCountersAcrossReset(t *testing.T) {
	b := New(Config{})
	_ = b.ApplySnapshot(Header{U: 10}, lv(100, 1), lv(101, 1))
	_ = b.ApplyDelta(Header{U: 11}, lv(99, 0), nil)
	b.Reset()
	if b.Len(Bid) != 0 || b.Header() != (Header{}) || b.Reason() != ReasonNoSnapshot {
		t.Fatalf("after Reset: got len %d header %+v reason %v; want empty, zero, no_snapshot", b.Len(Bid), b.Header(), b.Reason())
	}
	c := b.Counters()
	if c.Snapshots != 1 || c.Deltas != 1 || c.AbsentDeletes != 1 || c.Levels != 1 {
		t.Fatalf("counters after Reset: got %+v; want them kept", c)
	}
	q, _ := b.Top().Load()
	if !q.Stale || q.BidSize != 0 {
		t.Fatalf("published after Reset: got %+v; want stale and empty", q)
	}
}

// A dropped duplicate leaves the book exactly as it was and counts once
// (issue 14 item 9: it used to make the book stale and force a resync).
func TestDuplicateDeltaLeavesBookUnchanged(t *testing.T) {
	b := New(Config{})
	if err := b.ApplySnapshot(Header{U: 10}, lv(100, 1), lv(101, 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyDelta(Header{U: 11}, lv(100, 6), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyDelta(Header{U: 11}, lv(100, 7, 99, 3), lv(101, 0)); err != ErrDuplicate {
		t.Fatalf("repeat of u 11: got %v; want ErrDuplicate", err)
	}
	if got := levels(b, Bid); len(got) != 1 || got[0] != (Level{100, 6}) {
		t.Errorf("bids after the dropped duplicate: got %v; want [{100 6}]", got)
	}
	if got := levels(b, Ask); len(got) != 1 {
		t.Errorf("asks after the dropped duplicate: got %v; want one level", got)
	}
	if c := b.Counters(); c.Duplicates != 1 || c.Gaps != 0 || c.Ignored != 0 || b.Stale() || b.Header().U != 11 {
		t.Errorf("got %+v stale=%v u=%d; want 1 duplicate, live, u 11", c, b.Stale(), b.Header().U)
	}
}
