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
// # Run
//
// Warm-up (Duration/10, 5..30 s), then faults until Duration: a seeded
// schedule (-seed, -fault-rate) that draws kinds in rounds, every kind
// once per round, on whatever connection or topic is live at that moment,
// plus ringfeed's own --chaos-hook-stall. Then a cool-down until every
// fault window has closed, and the final comparison with the simulator
// paused. One connection per symbol (--symbols-per-conn 1), a 256-slot
// ring (so a 2 s hook stall overflows it) and --max-message 1 MiB (so
// oversize frames fall on both sides of it).
//
// # Definitions
//
// A fault window runs from the injection until its nominal duration has
// passed (plus 1 s), the connection it kills is gone (drops, oversize
// above the limit, a stall that swallowed one of ringfeed's pings, which
// ringfeed answers with a pong-timeout reconnect), and /healthz answers
// 200 with every connection up. A hook stall's window is found from
// ringfeed_hook_seconds_total jumping by the stall's length.
//
// Messages lost: the simulator's count of data messages queued minus
// ringfeed's messages_applied_total, read at checkpoints taken with the
// simulator paused and ringfeed drained (rings empty, counts steady). A
// segment between two checkpoints is clean when no fault was injected in
// it and no window was open; "lost outside fault windows" is the sum over
// clean segments and must be 0 in every one of them.
//
// Outages come from ringfeed_connection_up and
// ringfeed_connects_total{result="ok"} per connection; attempts per
// outage from ringfeed_reconnect_attempts_total. Each outage must fit the
// backoff schedule (full jitter up to min(30 s, 0.5 s·2^n) per attempt,
// the exponent reconstructed from the connection's history, plus 3 s per
// attempt for the limiter and injected handshake delays) and the limiter
// (5 + 1 attempt per second of outage). Every failed connect must be a
// handshake the simulator refused.
//
// The final state: every level of every book equal to the simulator's
// sent state, every ticker field by value, every kline candle equal to
// the stream's or the REST endpoint's (ringfeed fills windows from REST).
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
