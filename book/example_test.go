package book_test

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ringfeed/ringfeed/book"
)

// Prices in these examples have 2 decimals (scale 100), sizes 3 (scale
// 1000); the book does not care which scale the caller picks.

func ExampleNew() {
	b := book.New(book.Config{Depth: 50}) // an orderbook.50 book
	fmt.Println(b.Stale(), b.Reason().String(), b.Depth())
	// Output: true no_snapshot 50
}

func ExampleBook_ApplySnapshot() {
	b := book.New(book.Config{Depth: 50})
	err := b.ApplySnapshot(book.Header{U: 21111422, Seq: 457538796400, TS: 1758845431643},
		[]book.Level{{10914780, 1687}, {10914410, 27}}, // bids, best first
		[]book.Level{{10914800, 5}, {10915430, 76}},    // asks, best first
	)
	bid, _ := b.BestBid()
	ask, _ := b.BestAsk()
	fmt.Println(err, b.Stale(), bid, ask)
	// Output: <nil> false {10914780 1687} {10914800 5}
}

func ExampleBook_ApplyDelta() {
	b := book.New(book.Config{Depth: 50})
	_ = b.ApplySnapshot(book.Header{U: 100}, []book.Level{{10000, 1}}, []book.Level{{10010, 1}})

	// u steps by one: applied. Size 0 deletes the ask at 100.10.
	err := b.ApplyDelta(book.Header{U: 101}, []book.Level{{10005, 3}}, []book.Level{{10010, 0}, {10020, 2}})
	fmt.Println(err, b.Len(book.Bid), b.Len(book.Ask))

	// u jumps: the book goes stale and says why; later deltas are ignored.
	err = b.ApplyDelta(book.Header{U: 105}, nil, nil)
	fmt.Println(err, errors.Is(err, book.ReasonGap), b.Reason().String())
	err = b.ApplyDelta(book.Header{U: 106}, nil, nil)
	fmt.Println(err == book.ErrStale)
	// Output:
	// <nil> 2 1
	// book: stale: gap in update id u true gap
	// true
}

func ExampleBook_BeginSnapshot() {
	// A large snapshot split across several ring slots is applied piece by
	// piece; the book is published once, at End.
	b := book.New(book.Config{})
	b.BeginSnapshot(book.Header{U: 7})
	b.SetLevels(book.Bid, []book.Level{{100, 1}, {99, 2}})
	b.SetLevels(book.Ask, []book.Level{{101, 1}})
	b.Set(book.Bid, book.Level{Price: 98, Size: 3})
	fmt.Println(b.End(), b.Len(book.Bid))

	// A delta arriving before a snapshot's End means a piece was lost.
	b.BeginSnapshot(book.Header{U: 20})
	b.SetLevels(book.Bid, []book.Level{{100, 1}})
	b.BeginDelta(book.Header{U: 21})
	fmt.Println(b.End(), b.Reason().String())
	// Output:
	// <nil> 3
	// book: stale: split message incomplete incomplete
}

func ExampleBook_BeginDelta() {
	b := book.New(book.Config{})
	_ = b.ApplySnapshot(book.Header{U: 500}, []book.Level{{100, 1}}, []book.Level{{101, 1}})
	// u == 1 means Bybit restarted the stream: the message is a snapshot.
	b.BeginDelta(book.Header{U: 1})
	b.Set(book.Bid, book.Level{Price: 90, Size: 4})
	b.Set(book.Ask, book.Level{Price: 95, Size: 4})
	err := b.End()
	best, _ := b.BestBid()
	fmt.Println(err, best, b.Counters().Restarts)
	// Output: <nil> {90 4} 1
}

func ExampleBook_MarkStale() {
	b := book.New(book.Config{})
	_ = b.ApplySnapshot(book.Header{U: 10}, nil, nil)
	// The reader dropped an event for this book: resync it.
	fmt.Println(b.MarkStale(book.ReasonDropped), b.MarkStale(book.ReasonResync), b.Reason().String())
	// Output: true false dropped
}

func ExampleBook_Reset() {
	b := book.New(book.Config{})
	_ = b.ApplySnapshot(book.Header{U: 10}, []book.Level{{100, 1}}, nil)
	b.Reset() // resubscribing: wait for a new snapshot
	fmt.Println(b.Len(book.Bid), b.Reason().String(), b.Counters().Snapshots)
	// Output: 0 no_snapshot 1
}

func ExampleBook_CopyTop() {
	b := book.New(book.Config{})
	_ = b.ApplySnapshot(book.Header{U: 1},
		[]book.Level{{97, 1}, {100, 2}, {99, 3}, {98, 4}}, nil)
	top := make([]book.Level, 3) // caller's buffer, reused across calls
	n := b.CopyTop(book.Bid, top)
	fmt.Println(top[:n])
	// Output: [{100 2} {99 3} {98 4}]
}

func ExampleBook_Ascend() {
	b := book.New(book.Config{})
	_ = b.ApplySnapshot(book.Header{U: 1}, nil, []book.Level{{103, 1}, {101, 2}, {102, 3}})
	b.Ascend(book.Ask, func(lv book.Level) bool {
		fmt.Println(lv.Price, lv.Size)
		return lv.Price < 102 // stop after 102
	})
	// Output:
	// 101 2
	// 102 3
}

func ExampleBook_Mid() {
	b := book.New(book.Config{})
	_ = b.ApplySnapshot(book.Header{U: 1},
		[]book.Level{{10000, 1500}, {9990, 500}}, []book.Level{{10003, 250}})
	mid, _ := b.Mid()
	spread, _ := b.Spread()
	fmt.Println(mid, spread, b.SizeWithin(book.Bid, 2))
	// Output: 10001 3 2000
}

func ExampleTop() {
	b := book.New(book.Config{Depth: 1})
	top := b.Top() // hand this to other goroutines
	_ = b.ApplySnapshot(book.Header{U: 42, TS: 1700000000000},
		[]book.Level{{100, 5}}, []book.Level{{101, 6}})

	var wg sync.WaitGroup
	wg.Go(func() {
		q, ok := top.Load() // lock-free, never torn
		fmt.Println(ok, q.BidPrice, q.AskPrice, q.U, q.Stale)
	})
	wg.Wait()
	// Output: true 100 101 42 false
}

func ExampleReason() {
	for _, r := range []book.Reason{book.ReasonGap, book.ReasonCrossed, book.ReasonDropped} {
		fmt.Println(r.String(), "=", r.Error()) // fmt alone would print Error
	}
	// Output:
	// gap = book: stale: gap in update id u
	// crossed = book: stale: crossed book
	// dropped = book: stale: event dropped
}

func ExampleBook_Counters() {
	b := book.New(book.Config{Depth: 2})
	_ = b.ApplySnapshot(book.Header{U: 10, Seq: 500}, []book.Level{{100, 1}, {99, 1}}, []book.Level{{101, 1}})
	_ = b.ApplyDelta(book.Header{U: 11, Seq: 510}, []book.Level{{98, 0}, {100, 2}, {99, 0}, {97, 4}}, nil)
	_ = b.ApplyDelta(book.Header{U: 12, Seq: 520}, []book.Level{{98, 5}}, nil) // 97 falls past the cap

	c := b.Counters()
	fmt.Printf("%+v\n", b.Header())
	fmt.Println(c.Snapshots, c.Deltas, c.Levels, c.AbsentDeletes, c.Evictions)
	// Output:
	// {U:12 Seq:520 TS:0 CTS:0}
	// 1 2 5 1 1
}
