// Package bybitsim is a Bybit v5-compatible public market-data simulator:
// a WebSocket and REST server on 127.0.0.1 that speaks Bybit's real frame
// shapes per category, generates seeded random-walk markets, keeps the exact
// state it has sent as a reference, and injects faults on demand. Tests,
// demos, benchmarks and soak runs use it in-process (Start) or as the
// cmd/bybitsim binary.
//
// It imports no other ringfeed package on purpose: it is the independent
// reference the engine is checked against, so a bug shared by the two cannot
// hide.
//
// # Endpoints
//
// WebSocket /v5/public/{spot,linear,inverse,option} (URL); REST
// /v5/market/time, /v5/market/instruments-info (cursor pagination for
// derivatives and options, none for spot, as on Bybit), /v5/market/orderbook
// (the orderbook.1000 stream's state and u; orderbook.100 for options),
// /v5/market/kline (rows newest first) and /v5/market/recent-trade (the
// trade log, newest first, the stream's ids). Unknown symbols get retCode 10001 and
// a message.
//
// # Protocol
//
// Requests {"op":"subscribe"|"unsubscribe"|"ping","args":[...],"req_id":..}.
// Acks, pongs and errors follow the captured frames byte for byte (see the
// tests): spot puts the op in ret_msg and omits req_id when none was sent;
// linear/inverse send ret_msg "" and req_id ""; option answers COMMAND_RESP
// with successTopics/failTopics and pongs {"op":"pong","args":["<ms>"]}.
// Errors: "error:handler not found,topic:<t>" (unknown topic or depth),
// "Invalid symbol :[<t>]", "error:already subscribed,topic:<t>", and on spot
// "args size >10" (JSON-escaped \u003e) for more than 10 args. Spot, linear
// and inverse reject a request as a whole; option per topic. RFC 6455 pings
// are answered with pongs. A connection idle (nothing received, no data
// sent) for Config.IdleTimeout is dropped without a close frame.
//
// Invented where Bybit's behaviour is unknown: the reply to a message that
// is not JSON ("error:invalid request"), REST error texts, unsubscribing a
// topic that is not subscribed (succeeds), req_id in option acks (echoed
// when sent), the option orderbook's seq and cts (present), option trade
// fields mP/iP/mIv/iv (present, values made up), ticker values that are not
// prices (greeks, IV, index: plausible functions of the book).
//
// # Markets and streams
//
// Each (category, symbol) has one true book of Instrument.Levels (default
// 1000) levels a side on its tick grid, moved by seeded events: trades that
// sweep the best levels (the taker side leans back toward the initial price
// so the walk stays bounded), adds (often inside the spread) and cancels,
// mostly near the top but at every depth. The sequence of events of a market
// is a pure function of Config.Seed and its category and symbol; the clock
// only decides when they happen and how many go into one message. A market
// moves only while some stream of it is subscribed.
//
// Every topic is a stream with its own state, shared by all connections: an
// orderbook stream has its own u counter (a new subscriber gets a snapshot
// with the stream's current u, then deltas u+1, ...). A delta lists exactly
// the levels that changed in that depth's top-N window, with "0" for levels
// that left it, so a client's book always holds N levels; seq is the
// market's cross sequence (increasing; the same space as ticker cs and trade
// seq); cts <= ts. orderbook.1 sends snapshots only and re-sends an unchanged
// one (same u) after Config.Level1Resend. Linear/inverse tickers send a
// snapshot then deltas of changed fields; spot and option tickers send
// snapshots. Trades come in batches, several fills of one order sharing T
// and seq, each sweep starting at the best opposite level of the book as
// last published; ids are UUIDs on derivatives and consecutive numbers on
// spot; option trades go to publicTrade.{BASECOIN}. Klines update the open
// candle in place (confirm=false) and send the final state (confirm=true)
// when it closes.
//
// Book, Ticker, Kline and Trades return each stream's state as of the last
// message sent on it: what a client that applied every message holds. Two
// faults make it differ from replaying frames; see FaultSkipDelta and
// FaultCrossDelta. TrueBook returns the generator's book now, and
// KlineSeries the market's candles as REST serves them: a candle can open
// between two stream pushes, so a client that fills from REST may hold one
// the stream has not sent yet.
//
// # Clock and rate
//
// Every ts, cts, T and kline start/end comes from a simulated clock: real
// time since Start times Config.TimeScale, from the wall-clock time of
// Start. With TimeScale 60 a 1-minute candle closes every real second and
// candles stay aligned to their interval on the simulated clock;
// /v5/market/time reports the same clock. Push cadences are real time.
//
// Config.Rate: RateMixed (default) pushes each stream at Bybit's documented
// interval (books most, then trades, tickers, klines); RatePerStream and
// RateTotal pace messages per stream or in total; RateMax steps the
// generator back to back. RatePerStream and RateTotal are a steady stream,
// not bursts: the generator sleeps to each step's due time with a pacer
// precise to tens of microseconds (Linux: nanosleep on its own thread with
// a 1 ns timer slack; elsewhere the runtime's timers, ~1 ms), so 100k
// msgs/s over 8 streams is one step of 8 messages every ~80 µs, and a token
// bucket keeps the total rate exact (a late wake-up catches up, at most
// 10 ms worth). Pause stops the generator, Step advances it by
// hand on the caller's goroutine: tests pause, step, then compare.
//
// # Concurrency, latency, allocation
//
// Goroutines: one HTTP accept loop, one generator, one fault schedule (when
// configured), and per connection one reader (the HTTP handler) and one
// writer. Close ends all of them and waits; every loop is bounded by the
// Server's lifetime. One mutex guards markets and streams; the generator
// holds it for one step at a time. A step (events, window diffs, rendering
// with strconv.Append*, queueing) allocates nothing in steady state
// (TestTickAlloc) and costs 0.5-4 µs for one to a dozen streams
// (BenchmarkTick: 1.4-2.6 M msgs/s on one core, medians of -count 5).
//
// Each connection has a bounded outgoing byte queue (Config.QueueBytes) that
// its writer drains with one write per batch. Outside RateMax a client that
// lets the queue overflow is disconnected (counted as a slow client); in
// RateMax the generator waits for the fullest queue to drain below half
// instead (backpressure: the slowest reader paces everyone), and a client
// that accepts nothing for Config.WriteTimeout is disconnected. All methods
// are safe for concurrent use; everything they return is a copy owned by
// the caller.
//
// # Faults
//
// Each fault kind (FaultKind) is a typed method (Stall, SkipDelta, ...), a
// Fault value for Inject, a string for ParseFault ("stall,d=2s"), a flag of
// cmd/bybitsim, and part of the random FaultSchedule for soak runs. Every
// fault leaves the reference state meaningful: a client that resyncs or
// reconnects converges to it.
package bybitsim
