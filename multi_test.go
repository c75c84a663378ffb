package ringfeed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

func TestParseStream(t *testing.T) {
	f := func(in string, want Stream, ok bool) {
		t.Helper()
		got, err := ParseStream(in)
		if (err == nil) != ok || ok && fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ParseStream(%q) = %+v, %v; want %+v, ok=%v", in, got, err, want, ok)
		}
	}
	f("spot:BTCUSDT,ETHUSDT:orderbook.50,publicTrade", Stream{Spot, []string{"BTCUSDT", "ETHUSDT"}, []string{"orderbook.50", "publicTrade"}}, true)
	f("linear: BTCUSDT :tickers", Stream{Linear, []string{"BTCUSDT"}, []string{"tickers"}}, true)
	f("linear:BTCUSDT", Stream{}, false)
	f("linear::tickers", Stream{}, false)
	f("linear:BTCUSDT:", Stream{}, false)
	f("a:b:c:d", Stream{}, false)
}

func TestCategoryURL(t *testing.T) {
	f := func(in string, cat Category, want string, ok bool) {
		t.Helper()
		got, err := categoryURL(in, cat)
		if (err == nil) != ok || got != want {
			t.Errorf("categoryURL(%q, %s) = %q, %v; want %q, ok=%v", in, cat, got, err, want, ok)
		}
	}
	f("", Spot, "", true)
	f("testnet", Spot, "testnet", true)
	f("ws://127.0.0.1:9/v5/public/linear", Spot, "ws://127.0.0.1:9/v5/public/spot", true)
	f("ws://127.0.0.1:9/v5/public/", Option, "ws://127.0.0.1:9/v5/public/option", true)
	f("ws://127.0.0.1:9/feed", Spot, "", false)
}

func TestMultiConfigErrors(t *testing.T) {
	lin := Stream{Linear, []string{"BTCUSDT"}, []string{"orderbook.50"}}
	for name, c := range map[string]struct {
		cfg   Config
		field string
	}{
		"both":       {Config{Streams: []Stream{lin}, Category: Linear}, "Streams"},
		"twice":      {Config{Streams: []Stream{lin, lin}}, "Streams"},
		"record":     {Config{Streams: []Stream{lin}, Record: "x"}, "Record"},
		"bad topic":  {Config{Streams: []Stream{lin, {Spot, []string{"BTCUSDT"}, []string{"orderbook.7"}}}}, "Streams"},
		"bad ws-url": {Config{Streams: []Stream{lin}, WSURL: "ws://127.0.0.1:1/feed"}, "WSURL"},
	} {
		c.cfg.Admin, c.cfg.Logger = "off", quietLogger()
		_, err := New(c.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%s: got %v; want a ConfigError on %s", name, err, c.field)
		}
	}
}

// TestMultiCategory runs linear and spot in one engine against the
// simulator: the same symbol name in both is told apart by ?category=,
// each category's books match the simulator's, and /metrics is one valid
// exposition with the category on every ringfeed_ series.
func TestMultiCategory(t *testing.T) {
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 11, TimeScale: 60})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	e, err := New(Config{
		Streams: []Stream{
			{Linear, []string{"BTCUSDT", "ETHUSDT"}, []string{"orderbook.50", "tickers"}},
			{Spot, []string{"BTCUSDT"}, []string{"orderbook.50", "publicTrade"}},
		},
		WSURL: sim.URL("linear"), RESTURL: sim.RESTURL(), Admin: "127.0.0.1:0", Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var spotTrades, linearBooks, spotBooks int64
	var mu sync.Mutex
	e.OnBook(func(b BookRef) {
		mu.Lock()
		if b.Category() == Spot {
			spotBooks++
		} else {
			linearBooks++
		}
		mu.Unlock()
	})
	e.OnTrade(func(tr TradeRef) {
		mu.Lock()
		if tr.Category() == Spot {
			spotTrades++
		}
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return 15 s after cancel")
		}
	}()
	select {
	case <-e.Ready():
	case err := <-done:
		t.Fatalf("Run ended at start: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("not ready after 15 s")
	}
	h := &harness{t: t, sim: sim, e: e, client: &http.Client{Timeout: 5 * time.Second}}
	waitFor(t, 20*time.Second, "a healthy engine", func() bool { return h.get("/healthz", nil) == http.StatusOK })
	if got := e.Categories(); len(got) != 2 || got[0] != Linear || got[1] != Spot {
		t.Errorf("Categories: %v", got)
	}

	var v BookView
	if code := h.get("/v1/book/BTCUSDT", &v); code != http.StatusBadRequest {
		t.Errorf("/v1/book/BTCUSDT in two categories: got %d; want 400", code)
	}
	if _, err := e.Book(ctx, "BTCUSDT", 0, 1); !errors.Is(err, ErrAmbiguousSymbol) {
		t.Errorf("Engine.Book(BTCUSDT): got %v; want ErrAmbiguousSymbol", err)
	}
	if code := h.get("/v1/book/ETHUSDT", &v); code != http.StatusOK || v.Category != Linear {
		t.Errorf("/v1/book/ETHUSDT: %d %s; want 200 linear", code, v.Category)
	}
	var syms SymbolsView
	if h.get("/v1/symbols", &syms); len(syms.Symbols) != 3 {
		t.Errorf("/v1/symbols: %+v; want 3", syms)
	}

	// Each category's books against the simulator's, with the feed paused.
	sim.Pause()
	for _, c := range []struct {
		cat  Category
		syms []string
	}{{Linear, []string{"BTCUSDT", "ETHUSDT"}}, {Spot, []string{"BTCUSDT"}}} {
		for _, s := range c.syms {
			var want bybitsim.BookState
			waitFor(t, 15*time.Second, "book "+string(c.cat)+" "+s+" to catch up", func() bool {
				want, err = sim.Book(string(c.cat), s, 50)
				return err == nil && h.get("/v1/book/"+s+"?category="+string(c.cat), &v) == http.StatusOK && !v.Stale && v.U == want.U
			})
			if v.Category != c.cat || levelsEqual(v.Bids, want.Bids) != nil || levelsEqual(v.Asks, want.Asks) != nil {
				t.Errorf("%s %s: book differs from the simulator's", c.cat, s)
			}
			if got, err := e.Category(c.cat).Book(ctx, s, 50, 1); err != nil || got.U != want.U {
				t.Errorf("Category(%s).Book(%s): u %d, %v; want u %d", c.cat, s, got.U, err, want.U)
			}
		}
	}
	sim.Resume()
	waitFor(t, 20*time.Second, "hooks of both categories", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return spotTrades > 0 && spotBooks > 0 && linearBooks > 0
	})

	body := h.scrape()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for name, f := range fams {
		if !strings.HasPrefix(name, "ringfeed_") || name == "ringfeed_build_info" {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabel(m, "category") {
				t.Errorf("%s: series %v has no category", name, m.GetLabel())
			}
		}
	}
	cats := map[string]bool{}
	for _, m := range fams["ringfeed_trades_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "category" {
				cats[l.GetValue()] = true
			}
		}
	}
	if !cats["linear"] || !cats["spot"] {
		t.Errorf("ringfeed_trades_total categories: %v; want linear and spot", cats)
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, pr := range problems {
		if strings.HasPrefix(pr.Metric, "ringfeed_") && !latencyQuantiles[pr.Metric] {
			t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
		}
	}
}

func hasLabel(m *dto.Metric, name string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return true
		}
	}
	return false
}

func TestAppendLabelled(t *testing.T) {
	f := func(line, want string) {
		t.Helper()
		if got := string(appendLabelled(nil, []byte(line), []byte(`category="spot"`))); got != want {
			t.Errorf("appendLabelled(%q) = %q; want %q", line, got, want)
		}
	}
	f("ringfeed_trades_total 5\n", "ringfeed_trades_total{category=\"spot\"} 5\n")
	f("ringfeed_x{reason=\"gap\"} 1\n", "ringfeed_x{category=\"spot\",reason=\"gap\"} 1\n")
	f("ringfeed_x{conn=\"0\",category=\"linear\"} 1\n", "ringfeed_x{conn=\"0\",category=\"linear\"} 1\n")
	f("ringfeed_h_bucket{le=\"0.001\"} 3\n", "ringfeed_h_bucket{category=\"spot\",le=\"0.001\"} 3\n")
	f("ringfeed_x{path=\"a b\"} 2\n", "ringfeed_x{category=\"spot\",path=\"a b\"} 2\n")
}

// TestWriteCategorySets merges two engines' sets: each family once, with
// its metadata once, and every series labelled with its category.
func TestWriteCategorySets(t *testing.T) {
	lin := Stream{Linear, []string{"BTCUSDT"}, []string{"orderbook.50"}}
	spot := Stream{Spot, []string{"BTCUSDT"}, []string{"orderbook.50"}}
	e, err := New(Config{Streams: []Stream{lin, spot}, Admin: "off", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// A metrics writer that repeats its metadata per series, as
	// metrics.WriteCounterUint64 does.
	for _, c := range e.cats {
		c.set.RegisterMetricsWriter(func(w io.Writer) {
			metrics.WriteCounterUint64(w, `ringfeed_test_total{k="a"}`, 1)
			metrics.WriteCounterUint64(w, `ringfeed_test_total{k="b"}`, 2)
		})
	}
	var b bytes.Buffer
	e.WritePrometheus(&b)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, b.String())
	}
	if got := len(fams["ringfeed_test_total"].GetMetric()); got != 4 {
		t.Errorf("ringfeed_test_total: %d series; want 4 (2 per category)", got)
	}
	for _, meta := range []string{"# TYPE ringfeed_test_total ", "# HELP ringfeed_test_total", "# HELP ringfeed_trades_total "} {
		if n := strings.Count(b.String(), meta); n != 1 {
			t.Errorf("%q: %d lines; want 1", meta, n)
		}
	}
	if got := len(fams["ringfeed_trades_total"].GetMetric()); got != 2 {
		t.Errorf("ringfeed_trades_total: %d series; want one per category", got)
	}
}
