// Package parse turns Bybit v5 public WebSocket text frames into fixed-size
// Events written straight into caller-provided slots (ring slots), and
// classifies control frames (subscribe/unsubscribe acks and failures,
// pongs) for the session layer.
//
// # Messages
//
// Data topics: orderbook.{depth}.{symbol} (snapshot and delta),
// kline.{interval}.{symbol}, tickers.{symbol} (snapshot and delta; spot and
// option send snapshots only) and publicTrade.{symbol} (publicTrade.{BASE}
// on option sockets, where each trade names its own symbol). The shapes of
// all four categories (spot, linear, inverse, option) are accepted. Members
// are found by key, never by position: Bybit's key order varies.
//
// A message becomes one or more consecutive events, the first flagged
// First and the last flagged Last: a book larger than LevelsPerEvent levels
// is split (bids first, then asks, each event carrying the header), a kline
// frame gives one event per candle, a trade frame one per trade.
//
// # Numbers
//
// Prices and sizes are int64 fixed point, never floats. Book levels, trade
// prices/sizes and kline OHLC/volume use the symbol's scales from Symbols;
// ticker fields and turnovers use the fixed scales StatPriceScale,
// RateScale and ValueScale (see TickerField.Scale). A decimal that cannot
// be represented exactly at its scale is rejected with a typed error, never
// rounded; ParseDecimal documents the rules and AppendDecimal formats back.
//
// # Contract
//
// Paths: data frames in the shapes Bybit sends (books, klines, tickers,
// trades) are read in one pass over the frame's bytes, converted where
// they lie, with no value tree (fast.go); control frames, and any frame
// that pass does not take (an error of any kind, escapes, duplicate
// members, a shape Bybit does not send), go through the reused
// fastjson.Parser, which alone decides and names errors. For every frame
// the result is the fastjson path's, byte for byte (TestFastMatchesTree,
// FuzzFastMatchesTree).
//
// Allocation: Parse (and ParseTo) allocates nothing in steady state: the reused
// fastjson.Parser and the single-pass scratch keep their capacity (grown to
// the largest frame seen), symbols are looked up with m[string(b)], topics
// are split and switched on in place, and every error is a preallocated
// immutable *Error. Only a malformed frame allocates (inside fastjson's
// error path).
//
// Latency: work is linear in the frame size; see parse_bench_test.go and
// README.md for figures against encoding/json.
//
// Concurrency: a Parser belongs to one goroutine (one per reader). Symbols
// is shared read-only after setup (SetScales is safe at any time).
//
// Memory ownership: Events hold no pointers and own all their data (levels,
// trade ids): they may be copied and passed to other goroutines. The
// []byte fields of Result (RetMsg, ReqID, ConnID, the COMMAND_RESP topics)
// point into the Parser's buffer and are valid only until its next Parse;
// they must never cross a goroutine. The frame passed to Parse is copied
// and not retained.
//
// Errors: every failure of Parse is an *Error naming the JSON field, with a
// sentinel Reason (ErrSyntax, ErrMissing, ErrType, ErrRange, ErrPrecision,
// ErrEmpty, ErrSign, ErrExponent, ErrUnknownTopic, ErrUnknownSymbol,
// ErrMismatch, ErrUTF8, ErrTooMany, ErrNoRoom). After an error the Parser is
// ready for the next frame.
//
// The package imports no other ringfeed package.
package parse
