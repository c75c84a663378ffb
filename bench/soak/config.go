package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Config is one soak run.
type Config struct {
	// Duration is the length of the run before convergence: warm-up, then
	// faults until Duration. Convergence and the final comparison follow.
	Duration time.Duration
	Seed     uint64
	// FaultRate is the mean number of faults per second. Kinds come in
	// rounds (a seeded permutation of every kind), so each kind is drawn
	// once per len(kinds)/FaultRate seconds.
	FaultRate float64

	Category string
	Symbols  []string // default: the simulator's symbols of Category
	Topics   []string // ringfeed --topics

	// HookStall and HookEvery are ringfeed's --chaos-hook-stall D/E: a
	// book hook that sleeps D once every E. A negative HookStall turns it
	// off.
	HookStall, HookEvery time.Duration
	// RingSize is ringfeed's --ring-size: small enough that a hook stall
	// overflows it at this feed rate (the default 8192 slots would absorb
	// a two-second stall here, so the drop path would go untested).
	RingSize int
	// MaxMessage is ringfeed's --max-message; oversize frames are drawn on
	// both sides of it.
	MaxMessage int

	Ringfeed string // prebuilt ringfeed binary; "" builds ./cmd/ringfeed
	// Dir holds the binary and the logs (soak.log, ringfeed.log,
	// bybitsim.log). "" makes a temporary directory that is removed after
	// a run that passed and kept otherwise.
	Dir  string
	Go   string // go command for the build
	Poll time.Duration

	// Progress receives a line per phase and per fault (nil: discard).
	Progress io.Writer
	// Results, when set, is a file the result is also written to as
	// Markdown (the table and the failure-behaviour table).
	Results string
}

// Defaults.
const (
	defaultDuration   = 10 * time.Minute
	defaultSeed       = 7
	defaultFaultRate  = 0.3
	defaultCategory   = "linear"
	defaultTopics     = "orderbook.1,orderbook.50,orderbook.200,kline.1,tickers,publicTrade"
	defaultHookStall  = 2 * time.Second
	defaultRingSize   = 256
	defaultMaxMessage = 1 << 20
	defaultPoll       = 100 * time.Millisecond
)

// withDefaults fills in what is unset; HookEvery scales with the run.
func (c Config) withDefaults() Config {
	if c.Duration == 0 {
		c.Duration = defaultDuration
	}
	if c.FaultRate == 0 {
		c.FaultRate = defaultFaultRate
	}
	if c.Category == "" {
		c.Category = defaultCategory
	}
	if len(c.Topics) == 0 {
		c.Topics = splitList(defaultTopics)
	}
	if c.HookStall == 0 {
		c.HookStall = defaultHookStall
	}
	if c.HookEvery == 0 {
		// Several stalls per run, never so many that the feed is mostly
		// stalled: a quarter of the run, between 10 s and 45 s.
		c.HookEvery = min(max(c.Duration/4, 10*time.Second), 45*time.Second)
	}
	if c.RingSize == 0 {
		c.RingSize = defaultRingSize
	}
	if c.MaxMessage == 0 {
		c.MaxMessage = defaultMaxMessage
	}
	if c.Go == "" {
		c.Go = "go"
	}
	if c.Poll == 0 {
		c.Poll = defaultPoll
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Duration < 20*time.Second || c.Duration > 24*time.Hour:
		return fmt.Errorf("-duration %v: want 20s..24h", c.Duration)
	case !(c.FaultRate > 0 && c.FaultRate <= 20):
		return fmt.Errorf("-fault-rate %v: want 0 < rate <= 20", c.FaultRate)
	case c.HookStall > 0 && c.HookEvery <= c.HookStall:
		return fmt.Errorf("-hook-stall %v every %v: want 0 < stall < every", c.HookStall, c.HookEvery)
	case c.RingSize < 16 || c.RingSize&(c.RingSize-1) != 0:
		return fmt.Errorf("-ring-size %d: want a power of two >= 16", c.RingSize)
	case c.MaxMessage < 64<<10:
		return fmt.Errorf("-max-message %d: want >= 64 KiB (the largest legitimate frame)", c.MaxMessage)
	case c.Poll < 10*time.Millisecond || c.Poll > time.Second:
		return fmt.Errorf("-poll %v: want 10ms..1s", c.Poll)
	}
	switch c.Category {
	case "spot", "linear", "inverse", "option":
	default:
		return fmt.Errorf("-category %q: want spot, linear, inverse or option", c.Category)
	}
	return nil
}

// warmup is the quiet start before the first fault; the start-of-run
// resource figures are taken at its end.
func (c Config) warmup() time.Duration {
	return min(max(c.Duration/10, 5*time.Second), 30*time.Second)
}

func parseFlags(args []string, out io.Writer) (Config, error) {
	var c Config
	var symbols, topics, stall string
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.DurationVar(&c.Duration, "duration", defaultDuration, "run length before convergence (warm-up, then faults)")
	fs.Uint64Var(&c.Seed, "seed", defaultSeed, "seed of the simulator's markets and of the fault schedule")
	fs.Float64Var(&c.FaultRate, "fault-rate", defaultFaultRate, "mean faults per second")
	fs.StringVar(&c.Category, "category", defaultCategory, "Bybit category ringfeed subscribes")
	fs.StringVar(&symbols, "symbols", "", "comma-separated symbols (default: every simulated symbol of the category)")
	fs.StringVar(&topics, "topics", defaultTopics, "ringfeed --topics")
	fs.StringVar(&stall, "hook-stall", "", "ringfeed --chaos-hook-stall D/E (default 2s every quarter of the run, 10s..45s; 'off' disables)")
	fs.IntVar(&c.RingSize, "ring-size", defaultRingSize, "ringfeed --ring-size")
	fs.IntVar(&c.MaxMessage, "max-message", defaultMaxMessage, "ringfeed --max-message")
	fs.StringVar(&c.Ringfeed, "ringfeed", "", "prebuilt ringfeed binary (default: go build ./cmd/ringfeed)")
	fs.StringVar(&c.Go, "go", "go", "go command used to build ringfeed")
	fs.DurationVar(&c.Poll, "poll", defaultPoll, "admin API poll interval")
	fs.StringVar(&c.Results, "results", "", "also write the result as Markdown to `file`")
	fs.StringVar(&c.Dir, "dir", "", "keep the binary and logs in `dir` (default: a temporary directory, removed if the run passes)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Symbols = splitList(symbols)
	c.Topics = splitList(topics)
	switch stall {
	case "":
	case "off":
		c.HookStall = -1
	default:
		d, e, ok := strings.Cut(stall, "/")
		sd, err1 := time.ParseDuration(d)
		se, err2 := time.ParseDuration(e)
		if !ok || err1 != nil || err2 != nil || sd <= 0 || se <= sd {
			return c, fmt.Errorf("-hook-stall %q: want D/E with 0 < D < E, or off", stall)
		}
		c.HookStall, c.HookEvery = sd, se
	}
	c = c.withDefaults()
	return c, c.validate()
}

// splitList splits a comma-separated flag value, dropping blanks. The
// same seven lines stand in cmd/ringfeed/flags.go on purpose: each command parses its
// own flags, and neither main package can import the other.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
