// Package session is the Bybit v5 public WebSocket session of one
// connection: connect, subscribe, heartbeat, reconnect, per-topic liveness,
// single-topic resync, and a shared network probe.
//
// # Goroutines
//
// [Session.Run] is the session's one retry loop, and the goroutine that
// calls it is the connection's reader: per message it reads (wsconn), parses
// into slots handed out by the engine's [Sink], commits and flushes them,
// and goes on. Acks and pongs are matched on the way; everything slow or
// timed (sending subscribe requests, pings, pong and ack timeouts, silence
// checks, resyncs, subscription retries) runs on one control goroutine per
// connection, which only writes to the socket. Run joins it before
// reconnecting and before returning. The reader never waits on the control
// goroutine or on processing, except inside Sink.Next (the engine's bounded
// wait).
//
// # Allocation and latency
//
// A data message costs the socket read, the parse, the Sink calls, one
// atomic add for messages_total, two atomic stores (the topic's last-seen
// time and the connection's) and two atomic loads (a pending silence, the
// topic's silent flag): no allocation, no lock, no channel operation.
// The topic of a message is found without allocating from the parse result
// (kind, symbol id, depth or interval) through arrays built in New.
// Acks and pongs (every few seconds) may allocate a little; bad frames
// allocate for their log line, which is rate-limited.
//
// wsconn does not report whether another complete message is already
// buffered, so the reader flushes after every data message rather than once
// per socket read: holding events back until the next read could delay
// them for as long as the socket stays quiet.
//
// # Ownership
//
// Events live in the engine's slots; the session keeps no pointer to them
// past the current message. The parse.Result passed to Sink.Abort points
// into the parser's memory and is valid only during the call.
//
// # Reconnects and subscriptions
//
// Connection attempts pass through a process-wide [Limiter] (token bucket,
// sized by default from Bybit's 500 new connections per 5 minutes per IP)
// and sleep a full-jitter exponential backoff between attempts; the backoff
// exponent returns to zero once a connection has carried messages for
// Config.HealthyAfter. After every (re)connect Sink.Reset is called before
// any of the connection's data is parsed, then every topic is subscribed in
// requests of at most Config.ArgsPerRequest topics (spot rejects more than
// 10 as a whole). Acks are matched by req_id ("s-<n>", "u-<n>"), by request
// order when spot leaves req_id out, and per topic for the option
// COMMAND_RESP shape. "already subscribed" counts as success. A failed
// subscription is logged once with Bybit's ret_msg, counted, and retried
// alone on the backoff schedule. Data that arrives before its ack is kept.
//
// # Liveness
//
// The heartbeat sends {"op":"ping","req_id":"hb-<n>"} every PingInterval;
// a pong (ret_msg "pong", or op "pong" on option) answers it and gives the
// round trip ([Stats].PongRTT, ringfeed_pong_rtt_seconds). No pong within
// PongTimeout, or no frame at all for Dial.IdleTimeout, ends the
// connection. A topic silent past its threshold (Config.Silence) while
// something else still arrives is resubscribed alone; so is a topic named
// by [Session.Resync], which processors call for a stale book. A silent
// topic is also handed to Sink.Silent by the reader, before the next frame
// it handles, so the engine marks that stream stale in order with its
// data. [Session.TopicState] tells any goroutine whether a topic is acked
// on the live connection and whether it is silent (for /healthz).
//
// # Metrics
//
// Registered in Config.Metrics with Config.Labels on every name:
// ringfeed_connection_up, ringfeed_reconnect_attempts_total,
// ringfeed_connects_total{result="ok|dial_error|handshake_error|refused"},
// ringfeed_subscribe_failures_total,
// ringfeed_resubscribes_total{reason="silence|resync|reconnect"},
// ringfeed_pings_sent_total, ringfeed_pongs_total, ringfeed_pong_rtt_seconds,
// ringfeed_frames_total{opcode}, ringfeed_bytes_total (received payload),
// ringfeed_oversize_total, ringfeed_protocol_errors_total,
// ringfeed_parse_errors_total{reason}, ringfeed_messages_total{kind},
// ringfeed_unknown_ops_total and ringfeed_messages_dropped_total (the sink
// had no room). The frame, byte, oversize and protocol-error figures are
// wsconn's own counters summed over connections, read at scrape time, so
// the read path does not count twice. A [Probe] registers
// ringfeed_probe_tries_total, ringfeed_probe_failures_total,
// ringfeed_clock_offset_seconds and ringfeed_probe_rtt_seconds.
//
// # Concurrency
//
// All Session methods except Run may be called from any goroutine at any
// time; Resync, TopicIndex, TopicState, Connected and the metrics never
// block and do not allocate.
package session
