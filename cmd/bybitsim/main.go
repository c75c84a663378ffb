// Command bybitsim runs the Bybit v5-compatible public market-data
// simulator (package net/bybitsim) as a process: WebSocket streams on
// ws://ADDR/v5/public/{spot,linear,inverse,option} and the REST market
// endpoints on http://ADDR, on 127.0.0.1 and a free port by default.
//
// It prints "bybitsim listening on ADDR" and the URLs, then serves until
// SIGINT/SIGTERM or --duration, and prints the counters on exit. Bad flags
// exit with status 2 and a message naming the flag.
//
// Faults:
//
//	--fault SPEC        repeatable; SPEC is a fault as bybitsim.ParseFault reads
//	                    it ("kind,key=value,...") plus optional at=DUR (first
//	                    injection after start, default 0) and every=DUR (repeat).
//	                    Connection faults hit every connection open at that
//	                    moment unless conn= names one. Kinds: drop-msgs (n),
//	                    drop-after (d), stall (d), garbage, binary, oversize
//	                    (size), skip-delta, restart, cross, silence (d),
//	                    mute (d), split-trades, reject-topic (n) (these take cat= and
//	                    topic=), fragment (size, ping), server-ping (d),
//	                    slow-reader (size), refuse (n, status), delay-handshake
//	                    (n, d).
//	--faults SEED:RATE  random faults, RATE a second on average, for soak runs.
//
// Examples:
//
//	bybitsim --rate max --addr 127.0.0.1:9200
//	bybitsim --time-scale 60 --fault 'stall,d=3s,at=10s,every=30s' --fault 'skip-delta,cat=linear,topic=orderbook.50.BTCUSDT,every=5s'
//	bybitsim --faults 7:0.5 --duration 10m
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// scheduled is a --fault flag: a fault and when to inject it.
type scheduled struct {
	f         bybitsim.Fault
	at, every time.Duration
}

type faultFlags []scheduled

func (ff *faultFlags) String() string { return fmt.Sprint(len(*ff), " faults") }

func (ff *faultFlags) Set(v string) error {
	var sc scheduled
	var keep []string
	for _, p := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(p, "=")
		switch k {
		case "at", "every":
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 || (k == "every" && d > 0 && d < time.Millisecond) {
				return fmt.Errorf("%s=%q: want a duration >= 1ms", k, val)
			}
			if k == "at" {
				sc.at = d
			} else {
				sc.every = d
			}
		default:
			keep = append(keep, p)
		}
	}
	f, err := bybitsim.ParseFault(strings.Join(keep, ","))
	if err != nil {
		return err
	}
	sc.f = f
	*ff = append(*ff, sc)
	return nil
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func flagErr(name, format string, args ...any) error {
	msg := strings.TrimPrefix(fmt.Sprintf(format, args...), "bybitsim: ")
	return &usageError{"bybitsim: --" + name + ": " + msg}
}

type options struct {
	cfg      bybitsim.Config
	duration time.Duration
	stats    time.Duration
	symbols  int
	verbose  bool
	faults   faultFlags
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bybitsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rate, sched string
	fs.StringVar(&o.cfg.Addr, "addr", "127.0.0.1:0", "listen address")
	fs.Uint64Var(&o.cfg.Seed, "seed", 1, "seed of every market, id and conn_id")
	fs.StringVar(&rate, "rate", "mixed", "mixed, max, N/stream (msgs/s per stream) or N (msgs/s in total)")
	fs.Float64Var(&o.cfg.TimeScale, "time-scale", 1, "simulated clock speed: 60 closes a 1-minute candle every second")
	fs.BoolVar(&o.cfg.SnapshotBeforeAck, "snapshot-before-ack", false, "send a subscription's first snapshot before its ack")
	fs.DurationVar(&o.cfg.IdleTimeout, "idle", 10*time.Minute, "drop a connection idle this long (no ping, no data)")
	fs.IntVar(&o.cfg.QueueBytes, "queue", 8<<20, "per-connection outgoing queue bound, bytes")
	fs.DurationVar(&o.cfg.WriteTimeout, "write-timeout", 10*time.Second, "drop a client that accepts no bytes this long")
	fs.DurationVar(&o.cfg.Level1Resend, "level1-resend", 3*time.Second, "re-send an unchanged orderbook.1 snapshot after this long")
	fs.IntVar(&o.symbols, "symbols", 0, "add N synthetic symbols per category to the default instruments")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: on SIGINT/SIGTERM)")
	fs.DurationVar(&o.stats, "stats", 0, "print the counters this often (0: only on exit)")
	fs.BoolVar(&o.verbose, "v", false, "log faults and slow clients")
	fs.StringVar(&sched, "faults", "", "random faults for soak runs: SEED:RATE (faults per second)")
	fs.Var(&o.faults, "fault", "inject a fault: kind[,key=value...][,at=DUR][,every=DUR] (repeatable)")
	err := fs.Parse(args)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &usageError{"bybitsim: unexpected arguments " + strings.Join(fs.Args(), " ")}
	}
	o.cfg.Rate, err = bybitsim.ParseRate(rate)
	if err != nil {
		return nil, flagErr("rate", "%v", err)
	}
	if sched != "" {
		o.cfg.Faults, err = bybitsim.ParseFaultSchedule(sched)
		if err != nil {
			return nil, flagErr("faults", "%v", err)
		}
	}
	switch {
	case o.symbols < 0 || o.symbols > 5000:
		return nil, flagErr("symbols", "%d: want 0..5000", o.symbols)
	case o.duration < 0:
		return nil, flagErr("duration", "%v is negative", o.duration)
	case o.stats < 0:
		return nil, flagErr("stats", "%v is negative", o.stats)
	case !(o.cfg.TimeScale > 0 && o.cfg.TimeScale <= 1e6):
		return nil, flagErr("time-scale", "%v: want 0 < x <= 1e6", o.cfg.TimeScale)
	case o.cfg.QueueBytes < 4096:
		return nil, flagErr("queue", "%d: want >= 4096", o.cfg.QueueBytes)
	case o.cfg.IdleTimeout <= 0:
		return nil, flagErr("idle", "%v: want > 0", o.cfg.IdleTimeout)
	case o.cfg.WriteTimeout <= 0:
		return nil, flagErr("write-timeout", "%v: want > 0", o.cfg.WriteTimeout)
	case o.cfg.Level1Resend <= 0:
		return nil, flagErr("level1-resend", "%v: want > 0", o.cfg.Level1Resend)
	}
	if o.symbols > 0 {
		o.cfg.Instruments = bybitsim.DefaultInstruments()
		for _, cat := range []string{"spot", "linear", "inverse", "option"} {
			o.cfg.Instruments = append(o.cfg.Instruments, bybitsim.SyntheticInstruments(cat, o.symbols)...)
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) || (err != nil && strings.Contains(err.Error(), flag.ErrHelp.Error())) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if o.verbose {
		o.cfg.Logf = func(format string, args ...any) {
			fmt.Fprintf(stderr, time.Now().UTC().Format("15:04:05.000 ")+format+"\n", args...)
		}
	}
	s, err := bybitsim.Start(o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "bybitsim listening on %s\n", s.Addr())
	for _, cat := range []string{"spot", "linear", "inverse", "option"} {
		fmt.Fprintf(stdout, "  %-8s %s  symbols %d\n", cat, s.URL(cat), len(s.Symbols(cat)))
	}
	fmt.Fprintf(stdout, "  rest     %s  rate %s  seed %d\n", s.RESTURL(), o.cfg.Rate, o.cfg.Seed)

	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	done := make(chan struct{})
	for _, sc := range o.faults {
		go injectLoop(ctx, s, sc, stderr, done)
	}
	var tick <-chan time.Time
	if o.stats > 0 {
		t := time.NewTicker(o.stats)
		defer t.Stop()
		tick = t.C
	}
	for loop := true; loop; {
		select {
		case <-ctx.Done():
			loop = false
		case <-tick:
			printStats(stdout, s.Stats())
		}
	}
	for range o.faults {
		<-done
	}
	_ = s.Close()
	printStats(stdout, s.Stats())
	return 0
}

// injectLoop injects one --fault at its time and then every interval.
func injectLoop(ctx context.Context, s *bybitsim.Server, sc scheduled, stderr io.Writer, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	t := time.NewTimer(sc.at)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := s.Inject(sc.f)
		if err != nil {
			fmt.Fprintf(stderr, "bybitsim: --fault %s: %v\n", sc.f, err)
		}
		if sc.every == 0 {
			return
		}
		t.Reset(sc.every)
	}
}

func printStats(w io.Writer, st bybitsim.Stats) {
	fmt.Fprintf(w, "stats: conns %d open %d refused %d | subscribed %d failed %d | pings %d ctl %d | faults %d slow %d idle %d | wire %d B\n",
		st.ConnsAccepted, st.ConnsOpen, st.HandshakesRefused, st.SubscribesOK, st.SubscribesFailed,
		st.PingsAnswered, st.ControlPingsAnswered, st.FaultsInjected, st.SlowClientDrops, st.IdleCloses, st.WireBytes)
	keys := make([]string, 0, len(st.Messages))
	for k := range st.Messages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-20s %10d msgs %12d B\n", k, st.Messages[k], st.Bytes[k])
	}
}
