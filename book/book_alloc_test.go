//go:build !race

package book

import (
	"fmt"
	"testing"
)

const allocRuns = 2000

func wantNoAllocs(t *testing.T, name string, fn func()) {
	t.Helper()
	wantNoAllocsN(t, name, allocRuns, fn)
}

func wantNoAllocsN(t *testing.T, name string, runs int, fn func()) {
	t.Helper()
	if got := testing.AllocsPerRun(runs, fn); got != 0 {
		t.Errorf("%s: got %v allocs/op; want 0", name, got)
	}
}

// TestDeltaAlloc: applying deltas (replace, insert+delete, mixed) on 50-
// and 1000-level capped books allocates nothing once the book has been
// through its cycle once.
func TestDeltaAlloc(t *testing.T) {
	for _, n := range []int{50, 1000} {
		for _, kind := range []wlKind{wlReplace, wlInsDel, wlMixed} {
			w := newWorkload(n, 10, 128, kind, 7)
			b, u := cycledBook(t, w, n)
			i := 0
			wantNoAllocs(t, fmt.Sprintf("ApplyDelta %d levels %v", n, kind), func() {
				m := w.msgs[i%len(w.msgs)]
				i++
				u++
				if err := b.ApplyDelta(Header{U: u}, m.bids, m.asks); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestSplitDeltaAlloc: the same through Begin/Set/End, level by level.
func TestSplitDeltaAlloc(t *testing.T) {
	w := newWorkload(50, 10, 128, wlMixed, 3)
	b, u := cycledBook(t, w, 50)
	i := 0
	wantNoAllocs(t, "BeginDelta/Set/End", func() {
		m := w.msgs[i%len(w.msgs)]
		i++
		u++
		b.BeginDelta(Header{U: u})
		for _, lv := range m.bids {
			b.Set(Bid, lv)
		}
		for _, lv := range m.asks {
			b.Set(Ask, lv)
		}
		if err := b.End(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEvictAlloc: inserts that push a full capped book past its cap, and
// the deletes that undo them, allocate nothing.
func TestEvictAlloc(t *testing.T) {
	snap := snapshotPair(50)[0]
	b := New(Config{Depth: 50})
	if err := b.ApplySnapshot(Header{U: 1}, snap[0], snap[1]); err != nil {
		t.Fatal(err)
	}
	worst := snap[0][49]
	u := int64(1)
	i := 0
	ins := []Level{{}}
	undo := []Level{{}, worst}
	wantNoAllocs(t, "insert past cap, then undo", func() {
		u++
		if i%2 == 0 {
			// A new price between the best two bids: the worst is evicted.
			ins[0] = Level{snap[0][0].Price - 1, 5}
			if err := b.ApplyDelta(Header{U: u}, ins, nil); err != nil {
				t.Fatal(err)
			}
		} else {
			undo[0] = Level{snap[0][0].Price - 1, 0}
			if err := b.ApplyDelta(Header{U: u}, undo, nil); err != nil {
				t.Fatal(err)
			}
		}
		i++
	})
	if c := b.Counters(); c.Evictions < allocRuns/2 {
		t.Errorf("evictions: got %d; want >= %d", c.Evictions, allocRuns/2)
	}
}

// TestSnapshotAlloc: reloading 50- and 1000-level snapshots, whole and in
// pieces, allocates nothing in steady state: the cleared tree's nodes go to
// the free list and come back for the new one. A node that turns from leaf
// into inner node may still grow its child slice once, so a new book's
// first reloads allocate a little (at DefaultDegree: 40 slices over the
// first 250 reloads of a 1000-level book, 5 for a 50-level one, then none);
// the warm-up loop gets past that before the gate.
func TestSnapshotAlloc(t *testing.T) {
	for _, n := range []int{50, 1000} {
		pair := snapshotPair(n)
		b := New(Config{Depth: n})
		u := int64(1)
		i := 0
		reload := func() {
			s := pair[i%2]
			i++
			u++
			if err := b.ApplySnapshot(Header{U: u}, s[0], s[1]); err != nil {
				t.Fatal(err)
			}
		}
		for range 300 {
			reload()
		}
		wantNoAllocsN(t, fmt.Sprintf("ApplySnapshot %d", n), 200, reload)
		wantNoAllocsN(t, fmt.Sprintf("split snapshot %d", n), 200, func() {
			s := pair[i%2]
			i++
			u++
			b.BeginSnapshot(Header{U: u})
			for off := 0; off < n; off += 64 {
				b.SetLevels(Bid, s[0][off:min(off+64, n)])
				b.SetLevels(Ask, s[1][off:min(off+64, n)])
			}
			if err := b.End(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReadAlloc: top-N, best, mid, spread, sums and iteration allocate
// nothing.
func TestReadAlloc(t *testing.T) {
	pair := snapshotPair(1000)
	b := New(Config{})
	if err := b.ApplySnapshot(Header{U: 5}, pair[0][0], pair[0][1]); err != nil {
		t.Fatal(err)
	}
	dst := make([]Level, 10)
	var sink int64
	count := func(lv Level) bool { sink += lv.Size; return lv.Size < 500 }
	wantNoAllocs(t, "CopyTop 10", func() {
		if n := b.CopyTop(Bid, dst); n != 10 {
			t.Fatalf("CopyTop: got %d; want 10", n)
		}
	})
	wantNoAllocs(t, "queries", func() {
		lv, _ := b.BestBid()
		a, _ := b.BestAsk()
		m, _ := b.Mid()
		s, _ := b.Spread()
		sink += lv.Price + a.Price + m + s + b.SizeWithin(Ask, 20) + int64(b.Len(Bid))
		b.Ascend(Ask, count)
	})
	_ = sink
}

// TestTopAlloc: publishing and loading the top of book allocate nothing.
func TestTopAlloc(t *testing.T) {
	var top Top
	i := int64(0)
	wantNoAllocs(t, "Top.Store", func() { i++; top.Store(related(i)) })
	wantNoAllocs(t, "Top.Load", func() {
		if q, ok := top.Load(); !ok || q.U != i {
			t.Fatalf("Load: got %+v %v", q, ok)
		}
	})
}

// TestStalePathAlloc: a gap, the deltas ignored after it, a caller mark and
// the recovering snapshot allocate nothing, errors included.
func TestStalePathAlloc(t *testing.T) {
	snap := snapshotPair(50)[0]
	b := New(Config{Depth: 50})
	u := int64(10)
	d := []Level{{snap[0][3].Price, 7}}
	var err error
	wantNoAllocs(t, "gap, ignore, mark, resync", func() {
		u++
		if err = b.ApplySnapshot(Header{U: u}, snap[0], snap[1]); err != nil {
			t.Fatal(err)
		}
		u += 2
		if err = b.ApplyDelta(Header{U: u}, d, nil); err != ReasonGap {
			t.Fatalf("got %v; want %v", err, ReasonGap)
		}
		u++
		if err = b.ApplyDelta(Header{U: u}, d, nil); err != ErrStale {
			t.Fatalf("got %v; want %v", err, ErrStale)
		}
		b.MarkStale(ReasonDropped)
	})
}
