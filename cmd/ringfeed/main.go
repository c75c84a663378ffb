// Command ringfeed runs the ringfeed market-data engine against Bybit's v5
// public WebSocket streams, the embedded simulator (--sim), or a capture
// (ringfeed replay FILE...), and converts captures (ringfeed export).
//
// Exit status: 0 on a clean stop, 2 on bad configuration (the message
// names the flag), 1 on a fatal error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/bybitsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// run is main without the process: tests call it. environ is the
// environment as KEY=value strings (os.Environ).
func run(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) int {
	name := "ringfeed"
	if len(args) > 0 {
		switch args[0] {
		case "replay":
			return runReplay(ctx, args[1:], stdout, stderr)
		case "export":
			return runExport(args[1:], stdout, stderr)
		case "tail":
			return runTail(ctx, args[1:], stdout, stderr)
		}
	}
	o, rest, err := parseArgs(name, args, environ, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "ringfeed:", err)
		return 2
	}
	if o.version {
		printVersion(stdout)
		return 0
	}
	log := newLogger(o, stderr)
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "ringfeed: unexpected argument %q (flags go before arguments; see -h)\n", rest[0])
		return 2
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	if o.sim {
		sim, err := startSim(o, log)
		if err != nil {
			fmt.Fprintln(stderr, "ringfeed:", err)
			if isUsage(err) {
				return 2
			}
			return 1
		}
		defer sim.Close()
	}
	ns, err := startEmbeddedNATS(o, log)
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed:", err)
		return 2
	}
	if ns != nil {
		defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	}
	o.cfg.Logger = log
	// Sample contended mutexes and long blocking events so the admin
	// port's /debug/pprof/mutex and /block have something to show; at
	// these rates the cost is negligible (neither happens per message).
	runtime.SetMutexProfileFraction(100)
	runtime.SetBlockProfileRate(int(time.Millisecond))
	return runEngines(ctx, o, log, stdout, stderr)
}

// runEngine runs one engine with o.cfg until ctx ends.
func runEngine(ctx context.Context, o *options, log *slog.Logger, stdout, stderr io.Writer) int {
	e, err := ringfeed.New(o.cfg)
	if err != nil {
		return fail(stderr, "", err)
	}
	if o.stallEvery > 0 {
		log.Warn("chaos: a book hook will stall the processor", "for", o.stallFor, "every", o.stallEvery)
		next := time.Now().Add(o.stallEvery)
		e.OnBook(func(ringfeed.BookRef) {
			if now := time.Now(); now.After(next) {
				next = now.Add(o.stallEvery)
				time.Sleep(o.stallFor) // the stall being rehearsed
			}
		})
	}
	// The status loop stops when Run returns, also when it fails at
	// start (the admin port taken, say) before ctx ends.
	statusCtx, stopStatus := context.WithCancel(ctx)
	done := make(chan struct{})
	go statusLoop(statusCtx, e, o.status, stdout, done)
	err = e.Run(ctx)
	stopStatus()
	<-done
	if ringfeed.IsConfigError(err) {
		return fail(stderr, "", err) // nothing ran: no summary
	}
	summary(stdout, e.Stats())
	publishSummary(stdout, e)
	if err != nil {
		return fail(stderr, "", err)
	}
	return 0
}

// fail prints err once with the "ringfeed:" prefix (and what, if any) and
// returns the exit status: 2 for a configuration error, in flag syntax,
// 1 for anything else.
func fail(stderr io.Writer, what string, err error) int {
	code := 1
	if ringfeed.IsConfigError(err) || isUsage(err) {
		err, code = cliError(err), 2
	}
	fmt.Fprintln(stderr, "ringfeed:", what+strings.TrimPrefix(err.Error(), "ringfeed: "))
	return code
}

func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

func newLogger(o *options, w io.Writer) *slog.Logger { return logger(o.logLevel, o.logFormat, w) }

// startSim starts the embedded simulator and points the engine at it.
func startSim(o *options, log *slog.Logger) (*bybitsim.Server, error) {
	rate, err := bybitsim.ParseRate(o.simRate)
	if err != nil {
		return nil, flagErr("sim-rate", "%v", err)
	}
	if o.cfg.WSURL != "" || o.cfg.RESTURL != "" {
		return nil, flagErr("sim", "cannot be combined with --ws-url or --rest-url")
	}
	symbols := o.cfg.Symbols
	if o.symbolsAll() {
		symbols = nil // the simulator's own listing
	}
	ins := simInstruments(string(o.cfg.Category), symbols)
	for i, st := range o.cfg.Streams {
		if i == 0 {
			ins = simInstruments(string(st.Category), st.Symbols)
			continue
		}
		// The simulator's default instruments are in every list: add
		// only the made-up ones of this category.
		for _, in := range simInstruments(string(st.Category), st.Symbols) {
			if !slices.ContainsFunc(ins, func(x bybitsim.Instrument) bool { return x.Category == in.Category && x.Symbol == in.Symbol }) {
				ins = append(ins, in)
			}
		}
	}
	sim, err := bybitsim.Start(bybitsim.Config{Seed: o.simSeed, Rate: rate, Instruments: ins})
	if err != nil {
		return nil, err
	}
	o.cfg.WSURL = sim.URL(string(o.cfg.Category)) // with --stream, each category's path replaces the last segment
	o.cfg.RESTURL = sim.RESTURL()
	if len(o.cfg.Symbols) == 0 && len(o.cfg.Streams) == 0 {
		o.cfg.Symbols = sim.Symbols(string(o.cfg.Category))
	}
	log.Info("simulator started", "ws", o.cfg.WSURL, "rest", o.cfg.RESTURL, "symbols", o.cfg.Symbols, "rate", o.simRate)
	return sim, nil
}

// simInstruments is the simulator's market for --sim: its default
// instruments plus a made-up one (SyntheticInstruments' grid) for every requested
// symbol it does not have, so --sim runs with any symbols (many of them,
// say) instead of failing the instruments check.
func simInstruments(category string, symbols []string) []bybitsim.Instrument {
	ins := bybitsim.DefaultInstruments()
	have := make(map[string]bool, len(ins))
	for _, in := range ins {
		if in.Category == category {
			have[in.Symbol] = true
		}
	}
	for _, sym := range symbols {
		if have[sym] {
			continue
		}
		have[sym] = true
		in := bybitsim.SyntheticInstruments(category, 1)[0] // the category's made-up grid
		in.Symbol = sym
		ins = append(ins, in)
	}
	return ins
}

func statusLoop(ctx context.Context, e *ringfeed.Engine, every time.Duration, w io.Writer, done chan struct{}) {
	defer close(done)
	if every <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintln(w, "status", e.Stats())
		}
	}
}

func summary(w io.Writer, s ringfeed.Stats) {
	l := s.LatencyTotal
	fmt.Fprintf(w, "summary: uptime=%s messages=%d events=%d avg_msgs/s=%.0f\n", s.Uptime.Round(time.Millisecond), s.Messages, s.Events, float64(s.Messages)/max(s.Uptime.Seconds(), 1e-9))
	fmt.Fprintf(w, "summary: handling latency p50=%s p99=%s p99.9=%s max=%s (n=%d)\n", time.Duration(l.P50), time.Duration(l.P99), time.Duration(l.P999), time.Duration(l.Max), l.Count)
	st := &s.StagesTotal
	fmt.Fprintf(w, "summary: stages p50/p99 queue=%s/%s parse=%s/%s flush=%s/%s handoff=%s/%s (wake=%s/%s apply=%s/%s)\n",
		time.Duration(st.Queue.P50), time.Duration(st.Queue.P99), time.Duration(st.Parse.P50), time.Duration(st.Parse.P99),
		time.Duration(st.Flush.P50), time.Duration(st.Flush.P99), time.Duration(st.Handoff.P50), time.Duration(st.Handoff.P99),
		time.Duration(st.Wake.P50), time.Duration(st.Wake.P99), time.Duration(st.Apply.P50), time.Duration(st.Apply.P99))
	h := st.Handoff
	fmt.Fprintf(w, "summary: handoff p50=%s p99=%s p99.9=%s\n", time.Duration(h.P50), time.Duration(h.P99), time.Duration(h.P999))
	// Connections are closed by now: report how many there were, not how
	// many are up.
	fmt.Fprintf(w, "summary: connections=%d reconnects=%d stale_books=%d/%d ring_high=%d drops=%d resyncs=%d hooks_over=%d\n",
		s.Conns, s.Reconnects, s.StaleBooks, s.Books, s.RingHigh, s.RingDrops, s.Resyncs, s.HooksOver)
	if s.RecordDrops > 0 {
		fmt.Fprintf(w, "summary: capture dropped %d frames (disk too slow)\n", s.RecordDrops)
	}
}
