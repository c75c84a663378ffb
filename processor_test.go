package ringfeed

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// A query (an admin /v1/book read) that is pending while the processor has
// applied only the first slot of a two-slot snapshot must see the whole
// message, never the bids without the asks (issue 14 item 3: a
// half-applied orderbook.1000 snapshot was once served as live with 544
// bids and 0 asks).
func TestQueryNeverSeesHalfAppliedMessage(t *testing.T) {
	e, err := New(Config{Category: Linear, Symbols: []string{"AAAUSDT"}, Topics: []string{"orderbook.50"}, Admin: "off", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	c := e.conns[0]
	p := c.proc
	id, _ := e.syms.Lookup([]byte("AAAUSDT"))
	put := func(flags parse.Flags, bid bool) {
		ev := c.ring.Reserve()
		*ev = parse.Event{Kind: parse.KindBook, Flags: flags, Sym: id, Depth: 50, U: 1, Seq: 1, RecvNs: 1}
		ev.Levels[0] = parse.Level{Price: 100, Size: 1}
		if bid {
			ev.NBids = 1
		} else {
			ev.Levels[0].Price = 101
			ev.NAsks = 1
		}
		c.ring.Publish()
	}
	// The first slot is published and a query queued before the
	// processor starts, so it finds both at its first look.
	put(parse.Snapshot|parse.First, true)
	e.stateMu.Lock()
	e.running = true
	e.stateMu.Unlock()
	type answer struct {
		v   BookView
		err error
	}
	got := make(chan answer, 1)
	go func() {
		v, err := e.Book(context.Background(), "AAAUSDT", 0, 0)
		got <- answer{v, err}
	}()
	waitFor(t, 10*time.Second, "the query to be queued", func() bool { return p.nq.Load() == 1 })
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.run()
	}()
	waitFor(t, 10*time.Second, "the first slot to be applied", func() bool { return p.events.Load() == 1 })
	put(parse.Snapshot|parse.Last, false)
	var a answer
	select {
	case a = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("query not answered within 10s of the message's last slot")
	}
	c.ring.Close()
	<-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	if len(a.v.Bids) != 1 || len(a.v.Asks) != 1 || a.v.Stale {
		t.Fatalf("book served: %d bids, %d asks, stale %v; want the whole snapshot: 1 bid, 1 ask, live", len(a.v.Bids), len(a.v.Asks), a.v.Stale)
	}
}

// In spin mode the engine streams a live feed correctly (books match the
// simulator), and /metrics carries the latency histograms with every stage
// counted.
func TestSpinModeLiveFeedAndStageHistograms(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("spin mode needs GOMAXPROCS ≥ 2")
	}
	rate, _ := bybitsim.ParseRate("2000")
	h := startHarness(t, bybitsim.Config{Seed: 5, Rate: rate}, Config{
		Symbols:    []string{"BTCUSDT", "ETHUSDT"},
		Topics:     []string{"orderbook.50"},
		Wait:       ring.Spin,
		Processors: 1,
	})
	waitFor(t, 20*time.Second, "1000 messages", func() bool { return h.e.Stats().Messages > 1000 })
	h.quiesce("linear", 50)
	h.compareBooks("linear", 50)

	// The processors hand their figures over every second.
	var body string
	waitFor(t, 10*time.Second, "stage histograms with counts", func() bool {
		body = h.metrics()
		return histCount(body, `ringfeed_stage_latency_seconds_count{category="linear",stage="handoff"}`) > 0 &&
			histCount(body, `ringfeed_handling_latency_seconds_count{category="linear"}`) > 0
	})
	for _, stage := range stageNames {
		name := `ringfeed_stage_latency_seconds_count{category="linear",stage="` + stage + `"}`
		if n := histCount(body, name); n <= 0 {
			t.Errorf("%s = %v; want > 0", name, n)
		}
		// Buckets are cumulative and end at +Inf = _count.
		inf := histCount(body, `ringfeed_stage_latency_seconds_bucket{category="linear",stage="`+stage+`",le="+Inf"}`)
		if inf != histCount(body, name) {
			t.Errorf("stage %s: +Inf bucket %v != count %v", stage, inf, histCount(body, name))
		}
		if first := histCount(body, `ringfeed_stage_latency_seconds_bucket{category="linear",stage="`+stage+`",le="1e-06"}`); first < 0 || first > inf {
			t.Errorf("stage %s: 1µs bucket %v outside [0, %v]", stage, first, inf)
		}
	}
	for _, want := range []string{"# TYPE ringfeed_handling_latency_seconds histogram", "ringfeed_handling_latency_seconds_sum{category=\"linear\"} ", "ringfeed_feed_delay_seconds_bucket{category=\"linear\",le=\"0.001\"}"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	st := h.e.Stats()
	if st.StagesTotal.Handoff.Count == 0 || st.StagesTotal.Parse.Count == 0 {
		t.Errorf("Stats().StagesTotal counts: handoff %d, parse %d; want > 0", st.StagesTotal.Handoff.Count, st.StagesTotal.Parse.Count)
	}
	// Wake and apply split the hand-off of every message: as many, and
	// since wake ≤ handoff message by message, so are their quantiles.
	tot := st.StagesTotal
	if tot.Wake.Count != tot.Handoff.Count || tot.Apply.Count != tot.Handoff.Count {
		t.Errorf("counts: wake %d, apply %d; want handoff's %d", tot.Wake.Count, tot.Apply.Count, tot.Handoff.Count)
	}
	if tot.Wake.P50 > tot.Handoff.P50 || tot.Wake.P99 > tot.Handoff.P99 || tot.Apply.P99 > tot.Handoff.P99 {
		t.Errorf("wake %+v or apply %+v above handoff %+v", tot.Wake, tot.Apply, tot.Handoff)
	}
	for _, want := range []string{" handoff=", " wake=", " apply="} {
		if !strings.Contains(st.String(), want) {
			t.Errorf("status line %q lacks %q", st, want)
		}
	}
}

// metrics fetches /metrics.
func (h *harness) metrics() string {
	h.t.Helper()
	resp, err := h.client.Get("http://" + h.e.AdminAddr() + "/metrics")
	if err != nil {
		h.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

// histCount returns the value of the series named exactly series, or -1.
func histCount(body, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// A kline whose next start arrives while it is still unconfirmed lost its
// final push (a reconnect, a dropped frame): the window must not keep the
// partial candle as the closed one, so the processor asks for a refresh
// from REST. A candle confirmed before the next start asks for nothing.
func TestKlineSupersededUnconfirmedIsRefreshed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		confirm bool
		want    bool
	}{
		{"final push missed", false, true},
		{"final push received", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(Config{Category: Linear, Symbols: []string{"AAAUSDT"}, Topics: []string{"kline.1"},
				NoKlineHistory: true, Admin: "off", Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			p := e.conns[0].proc
			id, _ := e.syms.Lookup([]byte("AAAUSDT"))
			st := p.syms[id]
			ks := st.kline(parse.Interval1)
			ks.needFill = false // NoKlineHistory: nothing to load at start
			const t0 = 1_796_548_380_000
			candle := func(start int64, confirm bool) *parse.Event {
				return &parse.Event{Kind: parse.KindKline, Flags: parse.First | parse.Last, Sym: id, Interval: parse.Interval1, RecvNs: 1,
					Candle: parse.Candle{Start: start, End: start + 59_999, Open: 100, High: 101, Low: 99, Close: 100, Volume: 1, Turnover: 100, Confirm: confirm}}
			}
			// Applied on the test goroutine: the processor is not running.
			p.applyKline(st, candle(t0, false))
			if tc.confirm {
				p.applyKline(st, candle(t0, true))
			}
			if ks.needFill {
				t.Fatal("a refresh asked for before the next start")
			}
			p.applyKline(st, candle(t0+60_000, false))
			if ks.needFill != tc.want {
				t.Fatalf("after the next start: needFill = %v, want %v", ks.needFill, tc.want)
			}
		})
	}
}
