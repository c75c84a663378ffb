package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/bench"
	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// Each example is complete on its own, since godoc shows an example's body
// alone: the simulator and engine setup repeats from one to the next on
// purpose rather than through a shared helper.

// Generate records a deterministic feed: here 1,000 data frames of
// orderbook.50 for 8 symbols, plus the subscribe ack a recording holds.
func ExampleGenerate() {
	frames, err := bench.Generate(context.Background(), bench.Book50x8, 1, 1000)
	if err != nil {
		fmt.Println(err)
		return
	}
	acks := 0
	for _, f := range frames {
		if !strings.HasPrefix(string(f.Data), `{"topic":`) {
			acks++
		}
	}
	fmt.Printf("%d frames, %d ack\n", len(frames), acks)
	// Output: 1001 frames, 1 ack
}

// Record records from a simulator the caller runs; it leaves it paused.
func ExampleRecord() {
	cfg, err := bench.Mixed8.SimConfig(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	sim, err := bybitsim.Start(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	frames, err := bench.Record(context.Background(), sim, bench.Mixed8, 200)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(frames) > 200, bench.FeedBytes(frames) > 0)
	// Output: true true
}

// A feed written as NDJSON is what `ringfeed replay` reads; the replay
// benchmarks read it back the same way and call ringfeed.Replay.
func ExampleWriteNDJSONFile() {
	frames, err := bench.Generate(context.Background(), bench.Book50x8, 1, 500)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "feed")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "feed.ndjson")
	if err := bench.WriteNDJSONFile(path, frames); err != nil {
		fmt.Println(err)
		return
	}
	back, err := bench.ReadFeedFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := ringfeed.Replay(context.Background(), bench.Book50x8.ReplayConfig(), back, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("messages=%d books=%d stale=%d\n", res.Stats.Messages, len(res.Dump.Books), res.StaleBooks())
	// Output: messages=500 books=8 stale=0
}

// ReplayArgs is the CLI command that replays a feed like the suite does.
func ExampleScenario_ReplayArgs() {
	sc := bench.Scenario{Name: "small", Symbols: 2, Topics: bench.TopicsBook50, Rate: "max"}
	fmt.Println("ringfeed", strings.Join(sc.ReplayArgs("feed.ndjson"), " "))
	// Output: ringfeed replay --category linear --symbols S0001USDT,S0002USDT --topics orderbook.50 feed.ndjson
}

func ExampleScenarioByName() {
	for _, sc := range bench.Scenarios() {
		fmt.Println(sc, sc.Symbols, sc.Topics)
	}
	sc, ok := bench.ScenarioByName("mixed-200")
	fmt.Println(sc.WithRate("100000"), ok)
	// Output:
	// book50-8/max 8 [orderbook.50]
	// book50-200/max 200 [orderbook.50]
	// book1000-8/max 8 [orderbook.1000]
	// mixed-8/max 8 [orderbook.1 orderbook.50 publicTrade tickers kline.1]
	// mixed-200/mixed 200 [orderbook.1 orderbook.50 publicTrade tickers kline.1]
	// replay-8/mixed 8 [orderbook.50 publicTrade tickers kline.1]
	// mixed-200/100000 true
}

// EngineConfig points an engine at a simulator for a scenario.
func ExampleScenario_EngineConfig() {
	cfg, err := bench.Book50x8.SimConfig(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	sim, err := bybitsim.Start(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	ec := bench.Book50x8.EngineConfig(sim)
	fmt.Println(ec.Category, len(ec.Symbols), ec.Topics, ec.Admin, ec.WSURL == sim.URL("linear"))
	// Output: linear 8 [orderbook.50] off true
}

// The peer decodes every frame with encoding/json and keeps map books,
// re-sorted after each message.
func ExamplePeer() {
	p := bench.NewPeer(1000, 1000)
	for _, f := range []string{
		`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["65000.1","2"],["65000","1"]],"a":[["65000.2","3"]],"u":100,"seq":1},"cts":1}`,
		`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":2,"data":{"s":"BTCUSDT","b":[["65000.1","0"]],"a":[["65000.15","1.5"]],"u":101,"seq":2},"cts":2}`,
	} {
		if err := p.Handle([]byte(f)); err != nil {
			fmt.Println(err)
			return
		}
	}
	b := p.Book("BTCUSDT", 50)
	fmt.Println(p.Messages(), b.U, b.TopBids[0], b.TopAsks[0])
	// Output: 2 101 {65000 1} {65000.15 1.5}
}

func ExampleQuantile() {
	sorted := []int64{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}
	fmt.Println(bench.Quantile(sorted, 0.5), bench.Quantile(sorted, 0.99))
	// Output: 500 1000
}

// WriteCDF draws latency distributions as an SVG.
func ExampleWriteCDF() {
	fast := []int64{900, 1000, 1100, 1200, 5000}
	slow := []int64{9000, 10000, 11000, 12000, 50000}
	var buf bytes.Buffer
	if err := bench.WriteCDF(&buf, "example", "two made-up series", []bench.CDFSeries{
		{Name: "fast", Values: fast}, {Name: "slow", Values: slow},
	}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(buf.String(), "<svg"), strings.Count(buf.String(), "<polyline"))
	// Output: true 2
}
