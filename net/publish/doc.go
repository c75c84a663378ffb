// Package publish fans ringfeed's state out to NATS: every applied book
// update, trade, candle and ticker, as JSON on one subject per stream, with
// book snapshots, candles and tickers kept in JetStream for consumers that
// join late and trades kept for consumers that were down. The subjects and
// the wire format are a contract for consumers in any language; see
// BookSubject and the other subject builders, BookMsg, TradeMsg, KlineMsg,
// TickerMsg, and the README's "NATS fan-out" section. net/client is the Go
// consumer.
//
// Hand-off: each engine processor fills Msg slots of its own ring.SPSC
// (Reserve, copy, Publish; a split book message is reserved slot by slot
// and published, or rolled back, when it ends) and one worker goroutine
// per ring drains it. The processor never waits: a full ring is a counted
// drop and a snapshot owed. While slots keep coming the worker polls
// (sleeping 20-200 µs), so the processor only stores an index; after a
// millisecond without slots it parks and the next Publish wakes it.
//
// Numbering: every stream's messages carry N, 1, 2, 3 … without gaps,
// assigned by the processor, so a message lost anywhere (a full ring, a
// refused publish, a NATS outage, a subscriber the server cut off) shows
// up as a jump. Snapshots and stale repeats carry the number of the last
// update they include.
//
// Resilience: nats.go reconnects with capped exponential backoff and full
// jitter and buffers publishes meanwhile (Config.ReconnectBuf); after every
// (re)connect the publisher creates the streams, asks the engine for a
// snapshot of every book (Config.WantAll), and publishes again, with
// Nats-Msg-Id so JetStream keeps each once, the trades of the outage and
// of the 2 s before it.
//
// Contract:
//   - Allocation: none on the processor's side (the engine's
//     TestPublishHandoffAllocs). The worker's JSON encoding appends to a
//     reused buffer (BenchmarkEncodeDelta: 0 allocs); trades allocate their
//     message id.
//   - Concurrency: a ring has one producer (its processor) and one consumer
//     (its worker); Publisher's methods are safe from any goroutine.
//   - Memory: a Msg is about 1.2 KiB; a ring of 8192 slots is 10 MiB.
package publish
