package bybitsim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// applyWindow is the slow, obvious version of diffWindow's contract: apply
// changes to a best-first window through a map, sort, trim to n.
func applyWindow(win, changes []level, n int) []level {
	m := map[int64]int64{}
	for _, l := range win {
		m[l.key] = l.qty
	}
	for _, c := range changes {
		if c.qty == 0 {
			delete(m, c.key)
		} else {
			m[c.key] = c.qty
		}
	}
	out := make([]level, 0, len(m))
	for k, q := range m {
		out = append(out, level{k, q})
	}
	slices.SortFunc(out, func(a, b level) int { return int(b.key - a.key) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// TestSyncRandom checks side.sync against applyWindow on random books and
// random edits (sometimes more than the touch ring holds), the btree way: a
// randomized test against a sorted expectation.
func TestSyncRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		n := 1 + rng.IntN(40)
		var sd side
		for k := int64(0); k < int64(rng.IntN(80)); k++ {
			sd.set(k*3+int64(rng.IntN(3)), 1+int64(rng.IntN(5)))
		}
		old := sd.window(nil, n)
		mark := sd.nTouched
		edits := rng.IntN(10)
		if rng.IntN(20) == 0 {
			edits = touchLog + rng.IntN(100)
		}
		for range edits {
			k := int64(rng.IntN(260))
			if rng.IntN(3) == 0 { // mostly near the top, like the market
				k = int64(200 + rng.IntN(60))
			}
			sd.set(k, int64(rng.IntN(4))) // 0 deletes
		}
		win := make([]level, len(old), n)
		copy(win, old)
		ch := sd.sync(nil, &win, n, &mark)
		want := sd.window(nil, n)
		if got := applyWindow(old, ch, n); !slices.Equal(got, want) {
			t.Fatalf("iter %d: old+changes = %v; want %v (changes %v)", iter, got, want, ch)
		}
		if !slices.Equal(win, want) || mark != sd.nTouched {
			t.Fatalf("iter %d: window %v; want %v", iter, win, want)
		}
		for i := 1; i < len(ch); i++ {
			if ch[i].key >= ch[i-1].key {
				t.Fatalf("iter %d: changes not best first: %v", iter, ch)
			}
		}
	}
}

func TestSideSet(t *testing.T) {
	f := func(ops [][2]int64, want []level) {
		t.Helper()
		var sd side
		for _, o := range ops {
			sd.set(o[0], o[1])
		}
		if !slices.Equal(sd.lv, want) {
			t.Fatalf("after %v: got %v; want %v", ops, sd.lv, want)
		}
	}
	f(nil, nil)
	f([][2]int64{{5, 1}}, []level{{5, 1}})
	f([][2]int64{{5, 1}, {3, 2}, {9, 4}}, []level{{3, 2}, {5, 1}, {9, 4}})
	f([][2]int64{{5, 1}, {5, 7}}, []level{{5, 7}})
	f([][2]int64{{5, 1}, {3, 2}, {5, 0}}, []level{{3, 2}})
	f([][2]int64{{5, 0}}, nil) // deleting an absent level is a no-op
}

// TestMarketInvariants runs a market for many steps and checks what every
// stream relies on: sorted sides, no cross, at least Levels levels per
// side (bids: as many as the price grid allows), positive sizes.
func TestMarketInvariants(t *testing.T) {
	for _, in := range DefaultInstruments() {
		t.Run(in.Category+"/"+in.Symbol, func(t *testing.T) {
			m, err := newMarket(in, 42, 10)
			if err != nil {
				t.Fatalf("newMarket: %v", err)
			}
			now := int64(1_700_000_000_000)
			for i := range 20000 {
				m.step(now + int64(i))
				if i%500 != 0 {
					continue
				}
				for _, sd := range []*side{&m.bids, &m.asks} {
					for j := 1; j < sd.n(); j++ {
						if sd.lv[j].key <= sd.lv[j-1].key {
							t.Fatalf("step %d: side not sorted at %d", i, j)
						}
					}
					for _, l := range sd.lv {
						if l.qty <= 0 || l.qty%m.qstep != 0 {
							t.Fatalf("step %d: bad size %d (step %d)", i, l.qty, m.qstep)
						}
					}
				}
				if m.bestBid() >= m.bestAsk() {
					t.Fatalf("step %d: crossed: bid %d ask %d", i, m.bestBid(), m.bestAsk())
				}
				if m.asks.n() < m.levels {
					t.Fatalf("step %d: %d ask levels; want >= %d", i, m.asks.n(), m.levels)
				}
				if grid := int(m.bestBid()/m.tick) - 1; m.bids.n() < min(m.levels, grid/2) {
					t.Fatalf("step %d: %d bid levels; want >= %d", i, m.bids.n(), min(m.levels, grid/2))
				}
				if m.bids.top(m.bids.n()-1).key < m.tick {
					t.Fatalf("step %d: bid at or below zero", i)
				}
			}
		})
	}
}

// TestMarketDeterministic: the same seed gives the same market, another
// seed another.
func TestMarketDeterministic(t *testing.T) {
	run := func(seed uint64) []level {
		m, err := newMarket(DefaultInstruments()[2], seed, 10)
		if err != nil {
			t.Fatalf("newMarket: %v", err)
		}
		for i := range 5000 {
			m.step(int64(i))
		}
		return append(m.bids.window(nil, 100), m.asks.window(nil, 100)...)
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Fatalf("seed 1 twice: books differ")
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 1 and 2 gave the same book")
	}
}
