// Package ringfeed is a low-latency market-data engine for Bybit's v5
// public WebSocket streams. It keeps order books, kline windows, tickers
// and trade tapes for many symbols correct and current, measures itself,
// and survives bad networks and slow consumers.
//
// # Data flow
//
// Symbols are sharded over connections. Each connection has one reader
// goroutine (net/session over net/wsconn) that reads frames into a reused
// buffer, parses them with a reused parse.Parser straight into the slots of
// its own preallocated ring.SPSC, and publishes once per socket read.
// Processor goroutines each own a fixed set of rings and every symbol on
// them: they apply events to book.Book, kline.Window, the merged ticker and
// tape.Tape, record handling latency (frame receive → applied) in an
// HDR histogram, and run user hooks inline.
//
// # Contract
//
//   - Single writer: every book, window, ticker and tape is written by one
//     processor. Other goroutines read through Engine.Book, Klines, Ticker
//     and Trades (run on the processor between batches) or a book's
//     seqlock-published Top.
//   - The reader never waits on processing for long: on a full ring it
//     waits Config.RingFullWait once, then drops without waiting until the
//     processor frees a slot; the affected stream is marked stale and
//     resynced alone.
//   - No allocation per message from socket read to applied state in
//     steady state (TestPipelineAllocs); admin queries and periodic
//     reporting allocate.
//   - A book is either consistent or marked stale: a u gap, a delta before
//     a snapshot, a crossed book, a bad number or a dropped event make it
//     stale until the snapshot its resync brings; a duplicate or older
//     delta is dropped and counted.
//   - Data lost on the way is refilled from REST off the processors
//     (net/rest; trades from recent-trade, candles from kline) and applied
//     by the owning processor; what REST no longer has is counted.
//   - Prices and sizes are int64 fixed point at each instrument's own
//     scales; values that do not fit their scale exactly are rejected,
//     never rounded (a ticker field is left absent, the message applied).
//
// # Library surface
//
// Hooks (Engine.OnBook, OnKline, OnTicker, OnTrade; several per kind) run
// on the owning processor and receive read-only references (BookRef, ...)
// valid during the call. State views (BookView, ...) are typed copies with
// Decimal prices and sizes. Config.Streams serves several categories in
// one Engine, one engine per category behind it (see multi.go).
// docs/design.md in the repository describes the design as a whole.
//
// Start with New and Engine.Run; cmd/ringfeed is the command-line front end.
package ringfeed
