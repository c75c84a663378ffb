package book

import (
	"runtime"
	"sync/atomic"
)

// Quote is a consistent copy of the top of a book as of its last message.
// A side with BidSize or AskSize 0 is empty (a book never holds a level of
// size 0).
type Quote struct {
	BidPrice, BidSize int64
	AskPrice, AskSize int64
	U, Seq, TS, CTS   int64 // header of the last message applied
	Stale             bool  // the book was stale (or unreadable, see Top.Load)
}

// Retry bounds of Top.Load: spin loadSpin times, then yield between tries,
// and give up after loadTries. A writer publishes at most once per message
// (tens of nanoseconds, at most a few hundred times a second per book), so
// a reader that misses loadTries times in a row is starved by the scheduler,
// not by the writer.
const (
	loadSpin  = 8
	loadTries = 64
)

// Top is a seqlock-published Quote: one goroutine stores, any number load,
// without locks and without torn reads. Every field is a sync/atomic value,
// so the race detector sees no data race; the sequence counter makes a load
// of several fields consistent.
//
// The Book publishes into its own Top at the end of every message, on
// MarkStale and on Reset; do not Store into a Book's Top. The zero Top holds
// the zero Quote. Top must not be copied after first use.
type Top struct {
	_ [64]byte // keep the writer's other fields off the readers' cache line

	seq      atomic.Uint64 // odd while a Store is in progress
	bidPrice atomic.Int64
	bidSize  atomic.Int64
	askPrice atomic.Int64
	askSize  atomic.Int64
	u        atomic.Int64
	seqNo    atomic.Int64
	ts       atomic.Int64
	cts      atomic.Int64
	stale    atomic.Bool

	_ [64]byte
}

// Store publishes q. Only one goroutine may Store into a Top; it never
// blocks and does not allocate.
//
// Only the fields that changed are stored. An atomic store is an XCHG on
// amd64, a full barrier of ~20 cycles, and storing all nine fields was
// ~100 ns per book message (CPU profile of BenchmarkReplay/replay-8);
// most messages leave the best levels and the stale flag as they were,
// and an atomic load is a plain load. A reader's sequence check covers
// the fields left alone as well as the stored ones.
func (t *Top) Store(q Quote) {
	s := t.seq.Load()
	t.seq.Store(s + 1)
	store(&t.bidPrice, q.BidPrice)
	store(&t.bidSize, q.BidSize)
	store(&t.askPrice, q.AskPrice)
	store(&t.askSize, q.AskSize)
	store(&t.u, q.U)
	store(&t.seqNo, q.Seq)
	store(&t.ts, q.TS)
	store(&t.cts, q.CTS)
	if t.stale.Load() != q.Stale {
		t.stale.Store(q.Stale)
	}
	t.seq.Store(s + 2)
}

// store stores v into a unless a holds it already (Top.Store's writer is
// the only one, so the load sees its own last store).
func store(a *atomic.Int64, v int64) {
	if a.Load() != v {
		a.Store(v)
	}
}

// Load returns the last stored Quote and true. It is safe from any
// goroutine and does not allocate. It retries while a Store is in
// progress, yielding the processor after a few spins; if it still cannot
// read a consistent copy after a bounded number of tries it returns
// Quote{Stale: true} and false, which callers treat as "unknown now".
func (t *Top) Load() (Quote, bool) {
	for i := 0; i < loadTries; i++ {
		s := t.seq.Load()
		if s&1 == 0 {
			q := Quote{
				BidPrice: t.bidPrice.Load(),
				BidSize:  t.bidSize.Load(),
				AskPrice: t.askPrice.Load(),
				AskSize:  t.askSize.Load(),
				U:        t.u.Load(),
				Seq:      t.seqNo.Load(),
				TS:       t.ts.Load(),
				CTS:      t.cts.Load(),
				Stale:    t.stale.Load(),
			}
			if t.seq.Load() == s {
				return q, true
			}
		}
		if i >= loadSpin {
			runtime.Gosched()
		}
	}
	return Quote{Stale: true}, false
}
