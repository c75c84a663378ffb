package ringfeed

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/client"
	"github.com/ringfeed/ringfeed/net/publish"
)

// BenchmarkFrameToReplica measures, over loopback with the embedded
// nats-server, the time from the engine receiving a frame to a consumer's
// replica book having applied it (client.Book, JSON decode included), at
// Bybit's cadence (the simulator's mixed rate) and at 100k msgs/s. Each
// iteration waits for one replica update; p50/p99/p99.9 are reported.
func BenchmarkFrameToReplica(b *testing.B) {
	for _, rate := range []string{"mixed", "100000"} {
		b.Run("rate="+rate, func(b *testing.B) {
			r, err := bybitsim.ParseRate(rate)
			if err != nil {
				b.Fatal(err)
			}
			ns := startNATSB(b)
			h := startHarnessB(b, bybitsim.Config{Seed: 21, Rate: r}, Config{
				Topics: []string{"orderbook.50", "publicTrade", "tickers"}, Admin: "off",
				Publish: PublishConfig{URL: ns.ClientURL()},
			})
			nc, err := nats.Connect(ns.ClientURL())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			c, _ := client.New(nc, "linear")
			var mu sync.Mutex
			var lat []int64
			tick := make(chan struct{}, 1)
			for _, s := range h.e.cfg.Symbols {
				rep, err := c.SubscribeBook(s, 50, func(rb *client.Book) {
					if recv := rb.LastRecv(); recv != 0 {
						d := time.Now().UnixNano() - recv
						mu.Lock()
						if len(lat) < 1<<20 {
							lat = append(lat, d)
						}
						mu.Unlock()
						select {
						case tick <- struct{}{}:
						default:
						}
					}
				})
				if err != nil {
					b.Fatal(err)
				}
				defer rep.Close()
			}
			deadline := time.Now().Add(20 * time.Second)
			for !h.e.Publisher().Connected() || h.e.Publisher().Stats().Published < 100 {
				if time.Now().After(deadline) {
					b.Fatal("nothing published after 20s")
				}
				time.Sleep(10 * time.Millisecond)
			}
			mu.Lock()
			lat = lat[:0]
			mu.Unlock()
			m0, p0 := h.e.Stats().Messages, h.e.Publisher().Stats().Published
			start := time.Now()
			for b.Loop() {
				select {
				case <-tick:
				case <-time.After(10 * time.Second):
					b.Fatal("no replica update for 10s")
				}
			}
			el := time.Since(start).Seconds()
			mu.Lock()
			reportPercentiles(b, lat)
			mu.Unlock()
			b.ReportMetric(float64(h.e.Stats().Messages-m0)/el, "engine-msgs/s")
			b.ReportMetric(float64(h.e.Publisher().Stats().Published-p0)/el, "published/s")
		})
	}
}

// BenchmarkPublishSustained feeds the engine from the simulator at a fixed
// rate (100k msgs/s) and at its maximum, publishes everything to the
// embedded nats-server with a consumer subscribed to every subject, and
// reports published and delivered updates per second and the drops on
// both sides of the hand-off (target at 100k: 0 drops). Each iteration is
// 100 ms of feed.
func BenchmarkPublishSustained(b *testing.B) {
	for _, rate := range []string{"100000", "max"} {
		b.Run("rate="+rate, func(b *testing.B) {
			r, _ := bybitsim.ParseRate(rate)
			ns := startNATSB(b)
			h := startHarnessB(b, bybitsim.Config{Seed: 22, Rate: r,
				Instruments: bybitsim.SyntheticInstruments("linear", 20)}, Config{
				Topics: []string{"orderbook.50", "publicTrade", "tickers"}, Admin: "off",
				Publish: PublishConfig{URL: ns.ClientURL()},
			})
			nc, err := nats.Connect(ns.ClientURL())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			var got atomic.Uint64
			sub, err := nc.Subscribe("ringfeed.>", func(*nats.Msg) { got.Add(1) })
			if err != nil {
				b.Fatal(err)
			}
			_ = sub.SetPendingLimits(-1, -1)
			deadline := time.Now().Add(20 * time.Second)
			for h.e.Publisher().Stats().Published < 10000 {
				if time.Now().After(deadline) {
					b.Fatal("publisher not going after 20s")
				}
				time.Sleep(10 * time.Millisecond)
			}
			drops := h.e.set.GetOrCreateCounter(`ringfeed_publish_dropped_total{side="processor"}`)
			m0, p0, g0, d0 := h.e.Stats().Messages, h.e.Publisher().Stats().Published, got.Load(), drops.Get()
			pd0 := h.e.Publisher().Stats().Dropped
			start := time.Now()
			for b.Loop() {
				time.Sleep(100 * time.Millisecond)
			}
			el := time.Since(start).Seconds()
			b.ReportMetric(float64(h.e.Stats().Messages-m0)/el, "engine-msgs/s")
			b.ReportMetric(float64(h.e.Publisher().Stats().Published-p0)/el, "published/s")
			b.ReportMetric(float64(got.Load()-g0)/el, "delivered/s")
			b.ReportMetric(float64(drops.Get()-d0), "ring-drops")
			b.ReportMetric(float64(h.e.Publisher().Stats().Dropped-pd0), "nats-drops")
		})
	}
}

// benchEngine is the engine and simulator of a benchmark.
type benchEngine struct {
	e   *Engine
	sim *bybitsim.Server
}

// startHarnessB is startHarness for benchmarks: an engine on the
// simulator over loopback, stopped when the benchmark ends.
func startHarnessB(b *testing.B, simCfg bybitsim.Config, cfg Config) *benchEngine {
	b.Helper()
	sim, err := bybitsim.Start(simCfg)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Category = Linear
	cfg.WSURL, cfg.RESTURL = sim.URL("linear"), sim.RESTURL()
	cfg.Logger = quietLogger()
	if len(cfg.Symbols) == 0 {
		cfg.Symbols = sim.Symbols("linear")
	}
	e, err := New(cfg)
	if err != nil {
		sim.Close()
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	select {
	case <-e.Ready():
	case err := <-done:
		b.Fatalf("Run: %v", err)
	}
	b.Cleanup(func() {
		cancel()
		<-done
		sim.Close()
	})
	return &benchEngine{e: e, sim: sim}
}

func startNATSB(b *testing.B) *server.Server {
	b.Helper()
	ns, err := publish.Embedded{StoreDir: b.TempDir()}.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

func reportPercentiles(b *testing.B, ns []int64) {
	if len(ns) == 0 {
		return
	}
	slices.Sort(ns)
	q := func(p float64) float64 { return float64(ns[min(len(ns)-1, int(p*float64(len(ns))))]) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(q(0.999), "p99.9-µs")
}
