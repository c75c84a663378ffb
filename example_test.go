package ringfeed_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// Each example is complete on its own, since godoc shows an example's body
// alone: the simulator and engine setup repeats from one to the next on
// purpose rather than through a shared helper.

// Run the engine against the embedded simulator, read a book through the
// state API, and stop.
func ExampleNew() {
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 1})
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	e, err := ringfeed.New(ringfeed.Config{
		Category: ringfeed.Linear,
		Symbols:  []string{"BTCUSDT"},
		Topics:   []string{"orderbook.50"},
		WSURL:    sim.URL("linear"),
		RESTURL:  sim.RESTURL(),
		Admin:    "off",
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	// Wait (bounded: 20 s) for the first snapshot.
	var v ringfeed.BookView
	for i := 0; i < 800; i++ {
		if v, err = e.Book(ctx, "BTCUSDT", 0, 5); err == nil && !v.Stale {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	cancel()
	fmt.Println(<-done)
	fmt.Println(v.Symbol, v.Depth, "stale:", v.Stale, "levels:", len(v.Bids), len(v.Asks))
	// Output:
	// <nil>
	// BTCUSDT 50 stale: false levels: 5 5
}

// Replay frames through the same pipeline offline; symbols and topics come
// from the frames.
func ExampleReplay() {
	frames := []ringfeed.Frame{
		{Data: []byte(`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"s":"BTCUSDT","b":[["65000.1","1.5"],["65000.0","2"]],"a":[["65000.2","0.7"]],"u":100,"seq":9000},"cts":1700000000000}`)},
		{Data: []byte(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000020,"data":{"s":"BTCUSDT","b":[["65000.1","0"]],"a":[["65000.3","1.25"]],"u":101,"seq":9001},"cts":1700000000019}`)},
	}
	res, err := ringfeed.Replay(context.Background(), ringfeed.Config{Category: ringfeed.Linear,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, frames, 0)
	if err != nil {
		panic(err)
	}
	b := res.Dump.Books[0]
	fmt.Println(b.Symbol, "u", b.U, "bids", b.Bids, "asks", b.Asks)
	// Output:
	// BTCUSDT u 101 bids [{65000 2}] asks [{65000.2 0.7} {65000.3 1.25}]
}

// Hooks run on the processor goroutine after each applied book message,
// in registration order. A hook reads the book through a read-only
// BookRef, with prices as Decimals.
func ExampleEngine_OnBook() {
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 2})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	e, err := ringfeed.New(ringfeed.Config{Category: ringfeed.Linear, Symbols: []string{"ETHUSDT"}, Topics: []string{"orderbook.1"},
		WSURL: sim.URL("linear"), RESTURL: sim.RESTURL(), Admin: "off", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	var crossed, calls, printed atomic.Int64
	var first atomic.Value // the first best bid seen, as a string
	e.OnBook(func(b ringfeed.BookRef) {
		calls.Add(1)
		bid, _ := b.BestBid()
		ask, _ := b.BestAsk()
		if !bid.Price.Less(ask.Price) {
			crossed.Add(1)
		}
	})
	// A second hook does not replace the first.
	e.OnBook(func(b ringfeed.BookRef) {
		if bid, ok := b.BestBid(); ok && printed.Add(1) == 1 {
			first.Store(b.Symbol() + " bid " + bid.Price.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		for calls.Load() < 3 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	_ = e.Run(ctx)
	s, _ := first.Load().(string)
	fmt.Println("hook saw updates:", calls.Load() >= 3, "crossed:", crossed.Load(), "second hook ran:", strings.HasPrefix(s, "ETHUSDT bid "))
	// Output:
	// hook saw updates: true crossed: 0 second hook ran: true
}

// A Decimal keeps a price exact; comparison ignores the scale.
func ExampleDecimal() {
	a := ringfeed.NewDecimal(6500010, 2) // 65000.10
	b := ringfeed.NewDecimal(650001, 1)  // 65000.1
	fmt.Println(a, b, a.Equal(b), a.Float64(), a.Less(ringfeed.NewDecimal(65001, 0)))
	// Output: 65000.1 65000.1 true 65000.1 true
}

// Serve linear and spot in one engine: the same symbol name is a different
// instrument in each, so the category picks the book.
func ExampleEngine_Category() {
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 3})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	e, err := ringfeed.New(ringfeed.Config{
		Streams: []ringfeed.Stream{
			{Category: ringfeed.Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"}},
			{Category: ringfeed.Spot, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"}},
		},
		WSURL:   sim.URL("linear"), // each category gets its own path
		RESTURL: sim.RESTURL(),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	_, err = e.Book(ctx, "BTCUSDT", 0, 1)
	fmt.Println(err)
	var v ringfeed.BookView
	for i := 0; i < 200; i++ {
		if v, err = e.Category(ringfeed.Spot).Book(ctx, "BTCUSDT", 0, 1); err == nil && !v.Stale {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	cancel()
	fmt.Println(<-done)
	fmt.Println(e.Categories(), v.Category, v.Symbol, "stale:", v.Stale)
	// Output:
	// ringfeed: symbol served in several categories; name the category
	// <nil>
	// [linear spot] spot BTCUSDT stale: false
}

func ExampleParseStream() {
	s, err := ringfeed.ParseStream("spot:BTCUSDT,ETHUSDT:orderbook.50,publicTrade")
	fmt.Println(s.Category, s.Symbols, s.Topics, err)
	// Output: spot [BTCUSDT ETHUSDT] [orderbook.50 publicTrade] <nil>
}
