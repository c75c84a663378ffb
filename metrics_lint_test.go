package ringfeed

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// scrape fetches /metrics from the harness's admin server.
func (h *harness) scrape() []byte {
	h.t.Helper()
	resp, err := h.client.Get("http://" + h.e.AdminAddr() + "/metrics")
	if err != nil {
		h.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET /metrics: status %d, %v", resp.StatusCode, err)
	}
	return body
}

// latencyQuantiles are the window-quantile gauges that the latency
// histograms (issue 12) replace; until they land the lint flags them.
var latencyQuantiles = map[string]bool{
	"ringfeed_handling_latency_seconds": true,
	"ringfeed_handling_latency_count":   true,
	"ringfeed_feed_delay_seconds":       true,
}

// TestMetricsExposition scrapes a running engine and checks the answer the
// way promtool check metrics does (promlint over the text parser): every
// ringfeed_ family is typed and has help text (metricHelp), counters are
// counters, and the lint finds nothing.
func TestMetricsExposition(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 3, TimeScale: 60},
		Config{Topics: []string{"orderbook.50", "kline.1", "tickers", "publicTrade"}, SymbolsPerConn: 2})
	waitFor(t, 20*time.Second, "500 messages", func() bool { return h.e.Stats().Messages > 500 })
	body := h.scrape()
	if f := os.Getenv("RINGFEED_METRICS_DUMP"); f != "" {
		_ = os.WriteFile(f, body, 0o644) // for promtool check metrics by hand
	}

	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	var n int
	for name, f := range fams {
		if !strings.HasPrefix(name, "ringfeed_") {
			continue
		}
		n++
		if f.GetType() == dto.MetricType_UNTYPED {
			t.Errorf("%s: no TYPE", name)
		}
		if strings.HasSuffix(name, "_total") && f.GetType() != dto.MetricType_COUNTER {
			t.Errorf("%s: type %v; want counter", name, f.GetType())
		}
	}
	// Connection series carry the connection and its category.
	for _, name := range []string{"ringfeed_ring_occupancy", "ringfeed_ring_high_water", "ringfeed_ring_drops_total",
		"ringfeed_ring_full_waits_total", "ringfeed_frames_total", "ringfeed_connection_up"} {
		f := fams[name]
		if f == nil || len(f.GetMetric()) < 2 {
			t.Errorf("%s: want one series per connection (2), got %v", name, f)
			continue
		}
		for _, m := range f.GetMetric() {
			var conn, cat bool
			for _, l := range m.GetLabel() {
				conn = conn || l.GetName() == "conn"
				cat = cat || l.GetName() == "category" && l.GetValue() == "linear"
			}
			if !conn || !cat {
				t.Errorf("%s: series %v lacks conn or category", name, m.GetLabel())
			}
		}
	}
	if bi := fams["ringfeed_build_info"]; bi == nil || len(bi.GetMetric()) != 1 || len(bi.GetMetric()[0].GetLabel()) != 2 {
		t.Errorf("ringfeed_build_info{version,goversion}: got %v", bi)
	}
	// Label values are snake_case.
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != "version" && l.GetName() != "goversion" && strings.Contains(l.GetValue(), "-") {
					t.Errorf("%s: label %s=%q: want snake_case", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("got %d ringfeed_ families; want at least 20", n)
	}

	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, pr := range problems {
		if !strings.HasPrefix(pr.Metric, "ringfeed_") || latencyQuantiles[pr.Metric] {
			continue
		}
		if pr.Text == "no help text" {
			t.Errorf("%s: no help text: add a line to metricHelp in metrics_help.go", pr.Metric)
			continue
		}
		t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
	}
}

// metricValue returns the sum of the samples of family name whose labels
// include every pair in want.
func metricValue(t *testing.T, body []byte, name string, want map[string]string) float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s in /metrics", name)
	}
	var sum float64
	for _, m := range f.GetMetric() {
		n := 0
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				n++
			}
		}
		if n != len(want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		}
	}
	return sum
}

// TestOptionTradesOfOtherStrikesIgnored subscribes to some of a base coin's
// options: publicTrade.{BASE} brings trades of the others too, which are
// counted as ignored, not as parse errors.
func TestOptionTradesOfOtherStrikesIgnored(t *testing.T) {
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	all := sim.Symbols("option")
	sim.Close()
	if len(all) < 2 {
		t.Skipf("simulator serves %d options; need two", len(all))
	}
	base, _, _ := strings.Cut(all[0], "-")
	var some []string
	for _, s := range all {
		if strings.HasPrefix(s, base+"-") {
			some = append(some, s)
		}
	}
	if len(some) < 2 {
		t.Skipf("simulator serves %d %s options; need two", len(some), base)
	}
	some = some[:1]
	var warns atomic.Int64
	log := slog.New(countingHandler{slog.LevelWarn, &warns})
	h := startHarness(t, bybitsim.Config{Seed: 5, TimeScale: 60},
		Config{Category: Option, Symbols: some, Topics: []string{"publicTrade"}, Logger: log})
	waitFor(t, 30*time.Second, "an ignored trade batch", func() bool {
		return metricValue(t, h.scrape(), "ringfeed_messages_ignored_total", map[string]string{"reason": "unsubscribed_symbol"}) > 0
	})
	if got := metricValue(t, h.scrape(), "ringfeed_parse_errors_total", map[string]string{"reason": "unknown_symbol"}); got != 0 {
		t.Errorf("parse_errors_total{reason=unknown_symbol}: got %v; want 0", got)
	}
	if n := warns.Load(); n != 0 {
		t.Errorf("%d warnings logged; want none for normal traffic", n)
	}
}

// countingHandler counts log records at or above its level.
type countingHandler struct {
	level slog.Level
	n     *atomic.Int64
}

func (h countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h countingHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// TestDashboardQueries checks deploy/grafana-dashboard.json against a live
// scrape: every series a panel queries exists (a _bucket query needs a
// histogram family), every query is scoped by the job and instance
// variables (ringfeed_ series by category too), and a panel of per-second
// rates is not drawn in seconds.
func TestDashboardQueries(t *testing.T) {
	raw, err := os.ReadFile("deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title       string `json:"title"`
			FieldConfig struct {
				Defaults struct {
					Unit string `json:"unit"`
				} `json:"defaults"`
			} `json:"fieldConfig"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if !vars["job"] || !vars["instance"] || !vars["category"] {
		t.Errorf("dashboard variables %v: want job, instance and category", vars)
	}

	h := startHarness(t, bybitsim.Config{Seed: 3, TimeScale: 60},
		Config{Topics: []string{"orderbook.50", "tickers", "publicTrade"}, Symbols: []string{"BTCUSDT"}})
	waitFor(t, 20*time.Second, "100 messages", func() bool { return h.e.Stats().Messages > 100 })
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(h.scrape()))
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`\b(ringfeed|process|go)_[a-z0-9_]+\b`)
	for _, pn := range d.Panels {
		rates := 0
		for _, tg := range pn.Targets {
			if !strings.Contains(tg.Expr, `job=~"$job",instance=~"$instance"`) {
				t.Errorf("panel %q: %s is not scoped by $job and $instance", pn.Title, tg.Expr)
			}
			if strings.Contains(tg.Expr, "ringfeed_") && !strings.Contains(tg.Expr, "ringfeed_build_info") &&
				!strings.Contains(tg.Expr, `category=~"$category"`) {
				t.Errorf("panel %q: %s is not scoped by $category", pn.Title, tg.Expr)
			}
			if strings.Contains(tg.Expr, "rate(") && !strings.HasPrefix(tg.Expr, "histogram_quantile(") {
				rates++
			}
			for _, n := range name.FindAllString(tg.Expr, -1) {
				base, bucket := strings.CutSuffix(n, "_bucket")
				f := fams[base]
				switch {
				case bucket && (f == nil || f.GetType() != dto.MetricType_HISTOGRAM) && pendingHistograms[base]:
					t.Logf("panel %q: %s is not a histogram yet (issue 12)", pn.Title, base)
				case bucket && (f == nil || f.GetType() != dto.MetricType_HISTOGRAM):
					t.Errorf("panel %q: %s: no histogram %s in /metrics", pn.Title, n, base)
				case !bucket && f == nil:
					t.Errorf("panel %q: %s not in /metrics", pn.Title, n)
				}
			}
		}
		if rates == len(pn.Targets) && rates > 0 && pn.FieldConfig.Defaults.Unit == "s" {
			t.Errorf("panel %q plots rates in seconds", pn.Title)
		}
	}
}

// pendingHistograms are the latency histograms issue 12 adds.
var pendingHistograms = map[string]bool{
	"ringfeed_handling_latency_seconds": true,
	"ringfeed_feed_delay_seconds":       true,
	"ringfeed_stage_latency_seconds":    true,
}
