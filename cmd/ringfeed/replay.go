package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/book"
)

// processStart is when the process started, for the replay's
// whole-process figure (start, read, replay, exit).
var processStart = time.Now()

// replayOptions are `ringfeed replay`'s settings: only what a replay
// uses. Environment variables and config files are not read, so a live
// deployment's RINGFEED_SYMBOLS cannot filter a replay unnoticed.
type replayOptions struct {
	cfg       ringfeed.Config
	symbols   string
	topics    string
	gap       string
	speed     string
	dump      string
	logLevel  string
	logFormat string
}

func newReplayFlagSet(o *replayOptions, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ringfeed replay", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, `usage: ringfeed replay [flags] FILE...

Replays captures (ringfeed --record, plain or .zst) or NDJSON files of raw
Bybit frames through the engine as fast as it goes (or at --speed), in
the order given (a rotated series: day.*.cap.zst), and prints the
throughput and the final state. Symbols and topics are discovered from
the files unless named; topics the engine does not know are skipped and
counted. A file cut off mid-record (a killed recorder) is replayed up to
the cut, with a warning.

flags:
`)
		fs.PrintDefaults()
	}
	c := &o.cfg
	fs.Func("category", "Bybit category of the capture: spot, linear, inverse or option (default linear)", func(s string) error {
		c.Category = ringfeed.Category(s)
		return nil
	})
	fs.StringVar(&o.symbols, "symbols", "", "comma-separated symbols to replay (default: every symbol in the files)")
	fs.StringVar(&o.topics, "topics", "", "comma-separated topic kinds to replay, e.g. orderbook.50,publicTrade (default: every known topic in the files; any book depth)")
	fs.StringVar(&o.speed, "speed", "max", "'max' or a multiple of real time such as 1 or 10 (frames with receive times)")
	fs.StringVar(&o.dump, "dump", "", "write final books, klines, tickers and trade tapes as JSON to `file`")
	fs.StringVar(&o.gap, "gap-policy", "strict", "order book update id policy: strict or monotonic")
	fs.IntVar(&c.KlineWindow, "kline-window", ringfeed.DefaultKlineWindow, "candles kept per symbol and interval")
	fs.IntVar(&c.TradeTape, "trade-tape", ringfeed.DefaultTradeTape, "trades kept per symbol")
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	return fs
}

func (o *replayOptions) finish() error {
	c := &o.cfg
	if c.Category == "" {
		c.Category = ringfeed.Linear
	}
	c.Symbols, c.Topics = splitList(o.symbols), splitList(o.topics)
	if err := gapPolicy(o.gap, c); err != nil {
		return err
	}
	if o.speed != "max" {
		if v, err := strconv.ParseFloat(o.speed, 64); err != nil || v <= 0 {
			return flagErr("speed", "want 'max' or a positive number, got %q", o.speed)
		}
	}
	return checkLog(o.logLevel, o.logFormat)
}

// gapPolicy sets --gap-policy (live and replay alike).
func gapPolicy(s string, c *ringfeed.Config) error {
	switch s {
	case "strict":
		c.GapPolicy = book.Strict
	case "monotonic":
		c.GapPolicy = book.Monotonic
	default:
		return flagErr("gap-policy", "unknown policy %q (want strict or monotonic)", s)
	}
	return nil
}

// checkLog checks --log-level and --log-format (live and replay alike).
func checkLog(level, format string) error {
	switch level {
	case "debug", "info", "warn", "error":
	default:
		return flagErr("log-level", "unknown level %q", level)
	}
	switch format {
	case "text", "json":
	default:
		return flagErr("log-format", "unknown format %q (want text or json)", format)
	}
	return nil
}

// logger is the slog logger --log-level and --log-format ask for.
func logger(level, format string, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level))
	ho := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// runReplay is `ringfeed replay`.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := &replayOptions{}
	fs := newReplayFlagSet(o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := o.finish(); err != nil {
		fmt.Fprintln(stderr, "ringfeed replay:", err)
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "ringfeed replay: usage: ringfeed replay [flags] FILE... (see -h)")
		return 2
	}
	for _, p := range fs.Args() {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintln(stderr, "ringfeed replay:", err)
			return 2
		}
	}
	speed := 0.0
	if o.speed != "max" {
		speed, _ = strconv.ParseFloat(o.speed, 64)
	}
	o.cfg.Logger = logger(o.logLevel, o.logFormat, stderr)
	res, err := ringfeed.ReplayFiles(ctx, o.cfg, fs.Args(), speed)
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed replay:", err)
		if ringfeed.IsConfigError(err) {
			return 2
		}
		return 1
	}
	for _, w := range res.Truncated {
		fmt.Fprintln(stderr, "ringfeed replay: warning:", w, "(every complete frame before it was replayed)")
	}
	if len(res.UnknownTopics) > 0 {
		fmt.Fprintf(stderr, "ringfeed replay: skipped unknown topics: %v\n", res.UnknownTopics)
	}
	wall := time.Since(processStart)
	fmt.Fprintf(stdout, "replay: frames=%d messages=%d parse_errors=%d skipped=%d elapsed=%s msgs/s=%.0f\n",
		res.Frames, res.Stats.Messages, res.ParseErrors, res.Skipped, res.Elapsed.Round(time.Microsecond), res.MsgsPerSec())
	fmt.Fprintf(stdout, "replay: process=%s process_msgs/s=%.0f (start, read, replay, exit)\n",
		wall.Round(time.Microsecond), float64(res.Stats.Messages)/wall.Seconds())
	summary(stdout, res.Stats)
	fmt.Fprintf(stdout, "replay: books=%d stale=%d truncated_files=%d\n", len(res.Dump.Books), res.StaleBooks(), len(res.Truncated))
	if o.dump != "" {
		if err := writeJSON(o.dump, res.Dump); err != nil {
			fmt.Fprintln(stderr, "ringfeed replay: --dump:", err)
			return 1
		}
	}
	return 0
}

func writeJSON(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseRotate reads --record-rotate: a size with a unit (KB, MB, GB,
// KiB, MiB, GiB) or a duration.
func parseRotate(s string, c *ringfeed.Config) error {
	if c.Record == "" {
		return flagErr("record-rotate", "needs --record")
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < time.Second {
			return flagErr("record-rotate", "%v is below 1s", d)
		}
		c.RecordRotateEvery = d
		return nil
	}
	units := []struct {
		suffix string
		mul    int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseFloat(num, 64)
			if err != nil || n*float64(u.mul) < 1<<20 {
				break
			}
			c.RecordRotateSize = int64(n * float64(u.mul))
			return nil
		}
	}
	return flagErr("record-rotate", "want a size of at least 1MiB (512MiB, 2GB) or a duration (1h, 30m), got %q", s)
}
