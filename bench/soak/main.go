// Command soak runs the ringfeed binary against the Bybit simulator on
// loopback under a seeded random schedule of every fault the simulator has,
// plus a processor hook that stalls, then checks that ringfeed converged to
// the simulator's state and behaved within stated bounds while it was
// hammered. It prints a table and exits 1 if any line fails (2 on bad flags
// or a setup error).
//
//	go run ./bench/soak -duration 10m -seed 7
//
// # What runs where
//
// ringfeed is the real binary, built from ./cmd/ringfeed into a temporary
// directory and run as a child process with --ws-url/--rest-url pointing at
// the simulator and --admin on a free loopback port. The driver reads it
// only through its admin HTTP API (/metrics, /healthz, /v1/book,
// /v1/klines, /v1/ticker) with a plain http.Client, plus the one-line exit
// summary it prints on SIGTERM (whole-run latency percentiles, which
// /metrics only exports per one-second window).
//
// The simulator runs inside the driver process through package
// net/bybitsim, the code cmd/bybitsim wraps. The driver needs what the
// binary does not offer: the reference state (Book, Kline, Ticker) for the
// final comparison, the exact time and target of each fault to define fault
// windows, and Pause/Resume for exact message accounting at checkpoints.
//
// # Contract
//
// Not a hot path: the driver allocates freely and polls every -poll
// (100 ms). It is one goroutine plus the child's I/O copiers and the
// simulator's own goroutines. Every loop is bounded in count and time;
// the child is stopped (SIGTERM, then SIGKILL after 10 s) on every exit
// path, and it is started with --duration as a backstop should the driver
// die without killing it.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: exit status 0 (every check passed), 1
// (a check failed or the run broke) or 2 (bad flags).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "soak:", err)
		return 2
	}
	cfg.Progress = stderr
	res, err := Run(ctx, cfg)
	if res != nil {
		res.Print(stdout)
		if cfg.Results != "" {
			if werr := writeResults(cfg.Results, res, args); werr != nil {
				fmt.Fprintln(stderr, "soak: -results:", werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "soak:", err)
		return 1
	}
	if res.Failed() {
		fmt.Fprintln(stderr, "soak: FAILED")
		return 1
	}
	return 0
}

// writeResults writes res as Markdown with the command that reproduces it
// (the arguments without -results).
func writeResults(path string, res *Result, args []string) error {
	var keep []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		if a == "results" {
			i++
			continue
		}
		if strings.HasPrefix(a, "results=") {
			continue
		}
		keep = append(keep, args[i])
	}
	var b bytes.Buffer
	res.Markdown(&b, strings.TrimSpace("go run ./bench/soak "+strings.Join(keep, " ")))
	return os.WriteFile(path, b.Bytes(), 0o644)
}
