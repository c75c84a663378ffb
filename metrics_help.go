package ringfeed

// metricHelp is the HELP text of every ringfeed_ family. VictoriaMetrics/
// metrics writes HELP lines without text; writeCategorySets fills them in
// from here, so promtool and Prometheus show what a series means.
// TestMetricsExposition fails for a family that has none: add a line here
// with every new metric.
var metricHelp = map[string]string{
	"ringfeed_book_anomalies_total":                "Book events that do not make it stale but say something about the feed, by reason (restart, absent_delete, trim, duplicate, crossed).",
	"ringfeed_instrument_reloads_total":            "Instruments re-read from REST after a book restart (u == 1).",
	"ringfeed_instrument_scale_changes_total":      "Re-read instruments whose price or size scale changed (the symbol is resynced).",
	"ringfeed_rest_failures_total":                 "REST calls that returned an error after their retries.",
	"ringfeed_rest_requests_total":                 "HTTP requests sent to the REST API (tries included).",
	"ringfeed_rest_retries_total":                  "REST tries after the first of a call.",
	"ringfeed_rest_refill_failures_total":          "REST refills (kline, trades, instrument) that failed and will be retried, by what.",
	"ringfeed_ticker_fields_unrepresentable_total": "Ticker fields left absent because their value does not fit the field's scale.",
	"ringfeed_trade_gap_unrecovered_seconds_total": "Span of trade losses older than REST recent-trade reaches, where known.",
	"ringfeed_trade_gaps_unrecovered_total":        "Trade losses not fully recovered: REST recent-trade did not reach back to the last trade held.",
	"ringfeed_trade_refills_total":                 "Trade tape refills from REST recent-trade after a loss.",
	"ringfeed_trades_refill_overlap_total":         "Stream trades dropped because a refill had already put them on the tape.",
	"ringfeed_trades_refilled_total":               "Trades a refill added to the tapes.",
	"ringfeed_build_info":                          "Always 1; labels: ringfeed's module version and the Go release that built it.",
	"ringfeed_books_recovered_total":               "Books that went from stale back to live.",
	"ringfeed_books_stale":                         "Books stale now (awaiting a snapshot).",
	"ringfeed_books_stale_total":                   "Live-to-stale transitions of books, by reason.",
	"ringfeed_bytes_total":                         "WebSocket payload bytes received, per connection.",
	"ringfeed_clock_offset_seconds":                "Estimated offset of Bybit's clock from the local clock (from /v5/market/time).",
	"ringfeed_connection_up":                       "1 while the connection is established and subscribed, else 0.",
	"ringfeed_connects_total":                      "Connection attempts by result (ok, dial_error, handshake_error, refused).",
	"ringfeed_events_unexpected_total":             "Events for a topic the symbol is not subscribed to (should stay 0).",
	"ringfeed_events_unowned_total":                "Events for a symbol another processor owns (should stay 0).",
	"ringfeed_feed_delay_seconds":                  "Exchange message time to local receive, corrected by the clock offset.",
	"ringfeed_frames_total":                        "WebSocket frames received, by opcode, per connection.",
	"ringfeed_handling_latency_seconds":            "Frame receive to state updated, per applied message.",
	"ringfeed_stage_latency_seconds":               "Handling latency by stage, per message: queue (socket read to parse start), parse, flush (parse end to publish), handoff (publish to applied).",
	"ringfeed_handling_latency_window_seconds":     "Handling latency p50, p99, p99.9 and max (label stat) of the last one-second report window: the status line's figures.",
	"ringfeed_feed_delay_window_seconds":           "Feed delay p50, p99, p99.9 and max (label stat) of the last one-second report window.",
	"ringfeed_hook_calls_total":                    "User hook calls, by hook kind.",
	"ringfeed_hook_seconds_total":                  "Seconds spent in user hooks, by hook kind.",
	"ringfeed_hooks_over_budget_total":             "User hook calls that took longer than the hook budget, by hook kind.",
	"ringfeed_kline_updates_total":                 "Kline window updates, by outcome.",
	"ringfeed_messages_applied_total":              "Data messages applied to state by the processors.",
	"ringfeed_messages_lent_total":                 "Of the messages applied, those a reader applied for its parked processor instead of waking it (park mode; Config.NoLend).",
	"ringfeed_messages_dropped_total":              "Messages the reader dropped because the ring stayed full, per connection.",
	"ringfeed_messages_ignored_total":              "Messages that are normal traffic but carry nothing served, by reason.",
	"ringfeed_messages_total":                      "Messages received, by kind (book, kline, ticker, trade, op), per connection.",
	"ringfeed_oversize_total":                      "WebSocket messages over the size limit (the connection is closed with 1009).",
	"ringfeed_parse_errors_total":                  "Messages that failed to parse, by reason; each is skipped.",
	"ringfeed_pings_sent_total":                    "Application pings sent.",
	"ringfeed_pong_rtt_seconds":                    "Round-trip time of the last application ping.",
	"ringfeed_pongs_total":                         "Application pongs received.",
	"ringfeed_probe_failures_total":                "Network probe tries that failed.",
	"ringfeed_probe_rtt_seconds":                   "Round-trip time of the last network probe.",
	"ringfeed_probe_tries_total":                   "Network probe tries.",
	"ringfeed_protocol_errors_total":               "WebSocket protocol errors (the connection is replaced).",
	"ringfeed_reconnect_attempts_total":            "Reconnect attempts after a connection was lost.",
	"ringfeed_resubscribes_total":                  "Topic resubscriptions, by reason (silence, resync, reconnect).",
	"ringfeed_resyncs_requested_total":             "Resyncs the processors requested for stale books.",
	"ringfeed_ring_drops_total":                    "Events dropped on a full ring, per connection.",
	"ringfeed_ring_full_waits_total":               "Times a reader found its ring full and waited, per connection.",
	"ringfeed_ring_high_water":                     "Highest ring occupancy sampled, in slots, per connection.",
	"ringfeed_ring_occupancy":                      "Ring occupancy now, in slots, per connection.",
	"ringfeed_subscribe_failures_total":            "Subscribe requests Bybit rejected.",
	"ringfeed_trade_messages_lost_total":           "Trade messages lost on the way (dropped or unparsable).",
	"ringfeed_trades_duplicate_total":              "Repeated trades dropped from the tape by id.",
	"ringfeed_trades_total":                        "New trades added to the tapes.",
	"ringfeed_unknown_ops_total":                   "Control messages with an op ringfeed does not know.",
	"ringfeed_nats_connected":                      "1 while the NATS publisher's connection is up, else 0.",
	"ringfeed_nats_reconnects_total":               "Reconnects of the NATS publisher's connection.",
	"ringfeed_publish_dropped_total":               "Updates not published to NATS, by side: processor (hand-off ring full) or publisher (NATS refused it).",
	"ringfeed_publish_latency_seconds":             "Frame receive to update handed to NATS, per published update.",
	"ringfeed_publish_messages_total":              "Updates published to NATS.",
	"ringfeed_publish_trades_replayed_total":       "Trades published again after a NATS reconnect (the trade stream drops repeats).",
}

// withHelp returns the HELP line for family name: line itself when it has
// text or the family has none in metricHelp.
func withHelp(line []byte, name string) []byte {
	h, ok := metricHelp[name]
	if !ok || len(line) > len("# HELP ")+len(name)+1 {
		return line
	}
	return []byte("# HELP " + name + " " + h + "\n")
}
