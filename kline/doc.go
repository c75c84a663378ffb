// Package kline keeps fixed-size windows of candles, one [Window] per
// (symbol, interval), for Bybit v5 kline streams and REST history.
//
// The system this replaces concatenated each update onto a pandas frame,
// dropped duplicates and re-sorted it inside the WebSocket callback. A
// [Window] is a ring of candles ordered by start time, allocated once by
// [NewWindow]: an update of the newest candle is a write in place, a new
// candle is an append that overwrites the oldest when full, and a late
// update of an older candle is found by arithmetic on start/interval
// (binary search when the window has gaps). Nothing is ever sorted.
//
// Contract:
//
//   - Allocation: [Window.Update], [Window.Load], [Window.Last] (given a
//     buffer with room), the accessors and the [Interval] helpers allocate
//     nothing. Only [NewWindow] allocates, and only once.
//   - Latency: Update of the newest candle (in place or append) is O(1);
//     a late update is O(1) on a gap-free window and O(log n) otherwise; an
//     update that fills a gap moves at most half the window. Load is linear
//     in window plus history size.
//   - Concurrency: a Window is not safe for concurrent use. It has one
//     writer, the processor goroutine that owns the symbol; other goroutines
//     ask that processor for a copy ([Window.Last]) instead of reading.
//   - Memory: candles are values. Accessors return copies; Last appends
//     copies to the caller's slice; nothing the caller passes in is retained.
//
// Numbers are int64 fixed point; the scale is the caller's business. Times are
// Unix milliseconds, UTC. A candle's Start is aligned to its interval and its
// End is the last millisecond of the interval (Start + interval - 1), as
// Bybit sends them.
//
// Monthly candles (code "M") start at 00:00 UTC on the 1st of a calendar
// month, so [Month] is not a fixed length: alignment, End and gap counting
// use calendar arithmetic. Weekly candles (code "W") are taken to start on
// Monday 00:00 UTC (the usual exchange convention; Bybit does not document
// it). Every other interval divides a day and is aligned to the Unix epoch.
package kline
