package ringfeed

import (
	"testing"

	"github.com/ringfeed/ringfeed/book"
)

// benchBookRef returns a BookRef on a 50-level book, as an OnBook hook
// receives it.
func benchBookRef(b *testing.B) BookRef {
	b.Helper()
	e, err := New(Config{Category: Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"}, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	st := e.bySym[0]
	bs := st.books[0]
	var bids, asks []book.Level
	for i := range 50 {
		bids = append(bids, book.Level{Price: int64(6500000-i) * 1e6, Size: int64(i+1) * 1e5})
		asks = append(asks, book.Level{Price: int64(6500001+i) * 1e6, Size: int64(i+1) * 1e5})
	}
	if err := bs.b.ApplySnapshot(book.Header{U: 1, Seq: 1, TS: 1}, bids, asks); err != nil {
		b.Fatal(err)
	}
	return BookRef{symRef{e, st}, bs}
}

// What a hook pays to read through its reference, against reading the
// *book.Book hooks used to get (the baseline).
func BenchmarkBookRef(b *testing.B) {
	r := benchBookRef(b)
	var sink Decimal
	b.Run("BestBid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l, _ := r.BestBid()
			sink = l.Price
		}
	})
	b.Run("BestBid/raw-book", func(b *testing.B) {
		b.ReportAllocs()
		var p int64
		for b.Loop() {
			l, _ := r.bs.b.BestBid()
			p = l.Price
		}
		sink = NewDecimal(p, 8)
	})
	b.Run("Levels10", func(b *testing.B) {
		b.ReportAllocs()
		var top [10]Level
		for b.Loop() {
			r.Levels(book.Ask, top[:])
		}
		sink = top[9].Price
	})
	b.Run("Levels10/raw-book", func(b *testing.B) {
		b.ReportAllocs()
		var top [10]book.Level
		for b.Loop() {
			r.bs.b.CopyTop(book.Ask, top[:])
		}
		sink = NewDecimal(top[9].Price, 8)
	})
	if sink.IsZero() {
		b.Fatal("no level read")
	}
}
