// Command feedgen writes one of the bench suite's recorded feeds as NDJSON
// (one raw Bybit frame per line), the input `ringfeed replay` reads, and
// prints the replay command that measures it the way BenchmarkReplay does:
//
//	go run ./bench/feedgen -scenario mixed-200 -frames 1000000 -o /tmp/mixed-200.ndjson
//	ringfeed replay --category linear --symbols ... --topics ... /tmp/mixed-200.ndjson
//
// The feed is recorded from an in-process simulator paused and stepped, so
// a seed fixes the messages (only wall-clock fields differ between runs).
// Scenarios: book50-8, book50-200, book1000-8, mixed-8, mixed-200.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/ringfeed/ringfeed/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("scenario", "mixed-200", "workload: "+names())
	n := fs.Int("frames", 1_000_000, "data frames to record")
	seed := fs.Uint64("seed", 1, "simulator seed")
	out := fs.String("o", "", "output `file` (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sc, ok := bench.ScenarioByName(*name)
	switch {
	case !ok:
		fmt.Fprintf(stderr, "feedgen: --scenario: unknown %q (want one of %s)\n", *name, names())
		return 2
	case *n < 1:
		fmt.Fprintf(stderr, "feedgen: --frames: must be ≥ 1, got %d\n", *n)
		return 2
	case *out == "" || fs.NArg() > 0:
		fmt.Fprintln(stderr, "feedgen: usage: feedgen [-scenario NAME] [-frames N] [-seed S] -o FILE")
		return 2
	}
	frames, err := bench.Generate(ctx, sc, *seed, *n)
	if err != nil {
		fmt.Fprintln(stderr, "feedgen:", err)
		return 1
	}
	if err := bench.WriteNDJSONFile(*out, frames); err != nil {
		fmt.Fprintln(stderr, "feedgen:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %d frames, %d bytes (%s, seed %d)\n", *out, len(frames), bench.FeedBytes(frames), sc.Name, *seed)
	fmt.Fprintf(stdout, "replay it: ringfeed %s\n", strings.Join(sc.ReplayArgs(*out), " "))
	return 0
}

func names() string {
	var s []string
	for _, sc := range bench.Scenarios() {
		s = append(s, sc.Name)
	}
	return strings.Join(s, ", ")
}
