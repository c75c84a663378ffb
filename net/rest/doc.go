// Package rest is the engine's one client for Bybit's v5 public REST API
// (protocol notes §2): the server clock (GET /v5/market/time),
// instruments-info with cursor paging, kline history, recent trades and the
// order book snapshot.
//
// Every call goes through one http.Client with connect, TLS-handshake and
// response timeouts and an optional extra certificate authority, one retry
// policy (capped exponential backoff with full jitter, retrying only what a
// retry can cure: transport errors, HTTP 5xx and 429, Bybit's rate-limit
// and server-busy retCodes) and one request limiter shared by every caller
// in the process (Bybit allows 600 requests per 5 s per IP; the default
// limiter allows 500, leaving room for other programs on the host). An
// HTTP 403 ("access too frequent", a ban of about ten minutes, or a
// geo-block) is not retried: the client stops asking for BanPause so a
// retry storm cannot prolong a ban.
//
// REST is a cold path and never a gate for the WebSocket path: callers run
// it on their own goroutines (some regions block REST and not the stream).
// Results are decoded with encoding/json and returned as decimal strings,
// which the caller converts with its own per-symbol scales.
//
// Contract:
//   - Concurrency: a Client and a Limiter are safe for concurrent use.
//   - Allocation: a call allocates (decoding); not for the hot path.
//   - Memory: results are owned by the caller.
//   - Latency: a call takes at most Tries × Timeout plus the backoffs and
//     the limiter's wait, or until ctx ends.
package rest
