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
func (t *Top) Store(q Quote) {
	s := t.seq.Load()
	t.seq.Store(s + 1)
	t.bidPrice.Store(q.BidPrice)
	t.bidSize.Store(q.BidSize)
	t.askPrice.Store(q.AskPrice)
	t.askSize.Store(q.AskSize)
	t.u.Store(q.U)
	t.seqNo.Store(q.Seq)
	t.ts.Store(q.TS)
	t.cts.Store(q.CTS)
	t.stale.Store(q.Stale)
	t.seq.Store(s + 2)
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
