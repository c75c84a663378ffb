package main

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	in := `# HELP x
ringfeed_connection_up{conn="0",category="linear"} 1
ringfeed_connection_up{conn="1",category="linear"} 0
ringfeed_connection_up{conn="10",category="linear"} 1
ringfeed_connects_total{conn="0",category="linear",result="ok"} 3
ringfeed_connects_total{conn="0",category="linear",result="refused"} 2
ringfeed_connects_total_x 100
go_info_ext{compiler="gc", GOARCH="amd64"} 1
go_goroutines 24
process_start_time_seconds 1.7958909585111e+09 1700000000000

`
	m, err := parseMetrics(strings.NewReader(in))
	if err != nil {
		t.Fatalf("parseMetrics: %v", err)
	}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"len", float64(len(m)), 9},
		{"go_goroutines", m.sum("go_goroutines"), 24},
		{"labels with spaces", m.sum("go_info_ext", "compiler", "gc"), 1},
		{"timestamp ignored", m.sum("process_start_time_seconds"), 1.7958909585111e+09},
		{"up conn 0", m.conn("ringfeed_connection_up", 0), 1},
		{"up conn 1 (not 10)", m.conn("ringfeed_connection_up", 1), 0},
		{"up all", m.sum("ringfeed_connection_up"), 2},
		{"connects, not connects_total_x", m.sum("ringfeed_connects_total"), 5},
		{"connects ok", m.conn("ringfeed_connects_total", 0, "result", "ok"), 3},
		{"absent", m.sum("nope"), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v; want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseMetricsErrors(t *testing.T) {
	for _, in := range []string{
		"lonely_name",
		"x{a=\"b\"}",
		"x notanumber",
		"x 1 2 3",
	} {
		if _, err := parseMetrics(strings.NewReader(in)); !errors.Is(err, errMetricLine) {
			t.Errorf("parseMetrics(%q): got %v; want errMetricLine", in, err)
		}
	}
}

func TestCounters(t *testing.T) {
	m := samples{
		`ringfeed_connects_total{conn="0",category="linear",result="ok"}`:         4,
		`ringfeed_connects_total{conn="0",category="linear",result="refused"}`:    2,
		`ringfeed_connects_total{conn="1",category="linear",result="ok"}`:         1,
		`ringfeed_books_stale_total{reason="gap"}`:                                3,
		`ringfeed_resubscribes_total{conn="1",category="linear",reason="resync"}`: 5,
		`ringfeed_messages_total{conn="0",category="linear",kind="book"}`:         10,
		`ringfeed_messages_total{conn="1",category="linear",kind="book"}`:         7,
		`ringfeed_messages_total{conn="1",category="linear",kind="op"}`:           9,
	}
	c := counters(m)
	for k, want := range map[string]float64{
		"connects": 5, "failed_connects": 2, "refused": 2, "stale:gap": 3, "resub:resync": 5, "recv:book": 17, "recv:trade": 0,
	} {
		if c[k] != want {
			t.Errorf("counters[%q]: got %v; want %v", k, c[k], want)
		}
	}
}
