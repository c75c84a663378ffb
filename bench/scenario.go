package bench

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// Scenario is one workload: a simulated linear market of Symbols synthetic
// instruments, the topic kinds a client subscribes for each of them, and
// the simulator's publishing rate.
type Scenario struct {
	Name    string   // short name used in benchmark names, e.g. "book50-8"
	Symbols int      // number of synthetic instruments (S0001USDT, ...)
	Topics  []string // topic kinds without the symbol: "orderbook.50", "kline.1", ...
	// Rate is the simulator's rate in bybitsim.ParseRate's syntax: "max",
	// "mixed" (Bybit's push cadences, like a busy real feed) or "N"
	// messages per second in total.
	Rate string
}

// Category is the Bybit category every scenario uses: linear carries every
// stream kind (options have no klines) and is Bybit's busiest market.
const Category = "linear"

// Topic kind sets of the suite's workloads.
var (
	TopicsBook50   = []string{"orderbook.50"}
	TopicsBook1000 = []string{"orderbook.1000"}
	// TopicsMixed is a busy real subscription: top of book at 10 ms, 50
	// levels at 20 ms, trades as they happen, tickers at 100 ms and 1-minute
	// klines every second (Bybit's cadences when the rate is "mixed").
	TopicsMixed = []string{"orderbook.1", "orderbook.50", "publicTrade", "tickers", "kline.1"}
	// TopicsReplay is the recorded day issue 17 measures replay on: 50
	// levels, trades, tickers and 1-minute klines at Bybit's cadences
	// (orderbook.50 ~65 % of frames, trades ~20 %, tickers ~12 %, kline
	// ~3 %, ~280 B a frame).
	TopicsReplay = []string{"orderbook.50", "publicTrade", "tickers", "kline.1"}
)

// String names the scenario as benchmarks do: "book50-8/max".
func (s Scenario) String() string { return s.Name + "/" + s.Rate }

// SymbolNames lists the scenario's symbols in configuration order.
func (s Scenario) SymbolNames() []string {
	ins := bybitsim.SyntheticInstruments(Category, s.Symbols)
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Symbol
	}
	return out
}

// TopicNames lists every full topic ("orderbook.50.S0001USDT") of the
// scenario, symbol by symbol.
func (s Scenario) TopicNames() []string {
	var out []string
	for _, sym := range s.SymbolNames() {
		for _, t := range s.Topics {
			out = append(out, t+"."+sym)
		}
	}
	return out
}

// SimConfig is the simulator configuration of the scenario with the given
// seed. It fails if Rate does not parse or Symbols is not positive.
func (s Scenario) SimConfig(seed uint64) (bybitsim.Config, error) {
	if s.Symbols < 1 {
		return bybitsim.Config{}, fmt.Errorf("bench: scenario %s: %d symbols", s.Name, s.Symbols)
	}
	r, err := bybitsim.ParseRate(s.Rate)
	if err != nil {
		return bybitsim.Config{}, fmt.Errorf("bench: scenario %s: %w", s.Name, err)
	}
	return bybitsim.Config{
		Seed:        seed,
		Instruments: bybitsim.SyntheticInstruments(Category, s.Symbols),
		Rate:        r,
	}, nil
}

// EngineConfig is the engine configuration for the scenario against a
// simulator: its endpoints, every symbol and topic, no admin server, no
// REST kline history (the suite measures the stream), logs discarded.
// Everything else keeps the engine's defaults, as a user would run it.
func (s Scenario) EngineConfig(sim *bybitsim.Server) ringfeed.Config {
	return ringfeed.Config{
		Category: Category,
		Symbols:  s.SymbolNames(),
		Topics:   append([]string(nil), s.Topics...),
		WSURL:    sim.URL(Category),
		RESTURL:  sim.RESTURL(),
		Admin:    "off",
		// The suite measures the stream, and a replay has no REST
		// history to compare with.
		NoKlineHistory: true,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// ReplayConfig is the engine configuration for replaying a feed of the
// scenario, the one `ringfeed replay --category linear --symbols ...
// --topics ... FILE` builds (ReplayArgs). Naming symbols and topics skips
// the discovery pass over the frames, which allocates per frame and is not
// part of the pipeline being measured.
func (s Scenario) ReplayConfig() ringfeed.Config {
	return ringfeed.Config{
		Category: Category,
		Symbols:  s.SymbolNames(),
		Topics:   append([]string(nil), s.Topics...),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// ReplayArgs are the `ringfeed replay` arguments equivalent to
// ReplayConfig, for a feed file at path.
func (s Scenario) ReplayArgs(path string) []string {
	return []string{"replay", "--category", Category,
		"--symbols", strings.Join(s.SymbolNames(), ","),
		"--topics", strings.Join(s.Topics, ","), path}
}

// WithRate returns a copy of s publishing at rate.
func (s Scenario) WithRate(rate string) Scenario {
	s.Rate = rate
	return s
}

// The suite's workloads. Rates: "max" for throughput, "mixed" for Bybit's
// real cadence. The latency target runs Book50x8.WithRate("100000").
var (
	Book50x8   = Scenario{Name: "book50-8", Symbols: 8, Topics: TopicsBook50, Rate: "max"}
	Book50x200 = Scenario{Name: "book50-200", Symbols: 200, Topics: TopicsBook50, Rate: "max"}
	Book1000x8 = Scenario{Name: "book1000-8", Symbols: 8, Topics: TopicsBook1000, Rate: "max"}
	Mixed8     = Scenario{Name: "mixed-8", Symbols: 8, Topics: TopicsMixed, Rate: "max"}
	Mixed200   = Scenario{Name: "mixed-200", Symbols: 200, Topics: TopicsMixed, Rate: "mixed"}
	Replay8    = Scenario{Name: "replay-8", Symbols: 8, Topics: TopicsReplay, Rate: "mixed"}
)

// Scenarios lists the suite's workloads.
func Scenarios() []Scenario {
	return []Scenario{Book50x8, Book50x200, Book1000x8, Mixed8, Mixed200, Replay8}
}

// ScenarioByName returns the workload called name.
func ScenarioByName(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}
