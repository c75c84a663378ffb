package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// samples is one scrape of ringfeed's /metrics: value by series, the
// series written exactly as exported (`name{k="v",...}`).
type samples map[string]float64

var errMetricLine = errors.New("soak: bad metrics line")

// parseMetrics reads the Prometheus text format as VictoriaMetrics writes
// it: "# " comments, then "series value [timestamp]" lines. Label values
// may contain spaces, so the series ends at the last '}' when there is one.
func parseMetrics(r io.Reader) (samples, error) {
	m := samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var name, rest string
		if i := strings.LastIndexByte(line, '}'); i >= 0 && strings.IndexByte(line, '{') >= 0 && strings.IndexByte(line, '{') < i {
			name, rest = line[:i+1], line[i+1:]
		} else {
			var ok bool
			name, rest, ok = strings.Cut(line, " ")
			if !ok {
				return nil, fmt.Errorf("%w %d: %q", errMetricLine, n, line)
			}
		}
		f := strings.Fields(rest)
		if name == "" || len(f) == 0 || len(f) > 2 {
			return nil, fmt.Errorf("%w %d: %q", errMetricLine, n, line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("%w %d: %q: %v", errMetricLine, n, line, err)
		}
		m[name] = v
	}
	return m, sc.Err()
}

// sum adds every series of metric whose labels include all of kv, given as
// "key", "value" pairs.
func (m samples) sum(metric string, kv ...string) float64 {
	var t float64
	for s, v := range m {
		if !strings.HasPrefix(s, metric) {
			continue
		}
		rest := s[len(metric):]
		if rest != "" && rest[0] != '{' {
			continue // another metric with this prefix
		}
		if hasLabels(rest, kv) {
			t += v
		}
	}
	return t
}

func hasLabels(labels string, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if !strings.Contains(labels, kv[i]+`="`+kv[i+1]+`"`) {
			return false
		}
	}
	return true
}

// conn is the sum of metric for ringfeed connection i, with extra labels.
func (m samples) conn(metric string, i int, kv ...string) float64 {
	return m.sum(metric, append([]string{"conn", strconv.Itoa(i)}, kv...)...)
}

// Stale and resubscribe reasons as ringfeed labels them (book.Reason and
// the session's resubscribe reasons).
var (
	staleReasons = []string{"gap", "crossed", "dropped", "resync", "out_of_order", "seq_backwards",
		"incomplete", "bad_number", "delta_before_snapshot", "no_snapshot", "none"}
	resubReasons = []string{"reconnect", "resync", "silence"}
	// msgKinds maps the simulator's stream kinds to ringfeed's
	// messages_total{kind}.
	msgKinds = [][2]string{{"orderbook", "book"}, {"tickers", "ticker"}, {"publicTrade", "trade"}, {"kline", "kline"}}
)

// counters extracts, from one scrape, the whole-process counters the
// soak attributes to faults: name → value. The names are the soak's own,
// short enough for the tables.
func counters(m samples) map[string]float64 {
	c := map[string]float64{
		"connects":         m.sum("ringfeed_connects_total", "result", "ok"),
		"attempts":         m.sum("ringfeed_reconnect_attempts_total"),
		"failed_connects":  m.sum("ringfeed_connects_total") - m.sum("ringfeed_connects_total", "result", "ok"),
		"refused":          m.sum("ringfeed_connects_total", "result", "refused"),
		"parse_errors":     m.sum("ringfeed_parse_errors_total"),
		"binary_frames":    m.sum("ringfeed_frames_total", "opcode", "binary"),
		"cont_frames":      m.sum("ringfeed_frames_total", "opcode", "continuation"),
		"ping_frames":      m.sum("ringfeed_frames_total", "opcode", "ping"),
		"oversize":         m.sum("ringfeed_oversize_total"),
		"protocol_errors":  m.sum("ringfeed_protocol_errors_total"),
		"trade_dups":       m.sum("ringfeed_trades_duplicate_total"),
		"trade_msgs_lost":  m.sum("ringfeed_trade_messages_lost_total"),
		"ring_drops":       m.sum("ringfeed_ring_drops_total"),
		"sink_drops":       m.sum("ringfeed_messages_dropped_total"),
		"hooks_over":       m.sum("ringfeed_hooks_over_budget_total"),
		"sub_failures":     m.sum("ringfeed_subscribe_failures_total"),
		"recovered":        m.sum("ringfeed_books_recovered_total"),
		"resyncs_req":      m.sum("ringfeed_resyncs_requested_total"),
		"unknown_ops":      m.sum("ringfeed_unknown_ops_total"),
		"kline_rejected":   m.sum("ringfeed_kline_updates_total", "outcome", "rejected"),
		"kline_stale":      m.sum("ringfeed_kline_updates_total", "outcome", "ignored_stale"),
		"events_unowned":   m.sum("ringfeed_events_unowned_total"),
		"events_unexpect":  m.sum("ringfeed_events_unexpected_total"),
		"applied":          m.sum("ringfeed_messages_applied_total"),
		"hook_seconds":     m.sum("ringfeed_hook_seconds_total", "hook", "book"),
		"ring_occupancy":   m.sum("ringfeed_ring_occupancy"),
		"gc_cycles":        m.sum("go_gc_duration_seconds_count"),
		"goroutines":       m.sum("go_goroutines"),
		"rss":              m.sum("process_resident_memory_bytes"),
		"parse_unknown_tp": m.sum("ringfeed_parse_errors_total", "reason", "unknown_topic"),
		"parse_syntax":     m.sum("ringfeed_parse_errors_total", "reason", "syntax"),
	}
	for _, r := range staleReasons {
		c["stale:"+r] = m.sum("ringfeed_books_stale_total", "reason", r)
	}
	for _, r := range resubReasons {
		c["resub:"+r] = m.sum("ringfeed_resubscribes_total", "reason", r)
	}
	for _, k := range msgKinds {
		c["recv:"+k[1]] = m.sum("ringfeed_messages_total", "kind", k[1])
	}
	return c
}
