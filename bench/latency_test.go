package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// The latency suite measures the engine as it runs in production: the feed
// comes from cmd/bybitsim in a child process over loopback, so the
// simulator's goroutines, allocations and GC do not share the engine's
// runtime; the engine runs in the benchmark process. Each case reports the
// handling latency (frame read → applied) and every stage of it, the
// engine's CPU use, and the cold-parse floor: the same kind of frames
// parsed alone, one after each idle gap of the run's average length, in
// the same process right after the live window.

// latencyCase is one workload of the suite.
type latencyCase struct {
	sc Scenario
	// what the targets say about this case, for the log
	cadence bool // Bybit's push cadence (rate "mixed")
}

// latencyCases: Bybit's cadence with 8 and 50 symbols (every topic kind),
// steady orderbook.50 deltas at 10k and 100k msgs/s, and 200 symbols at
// Bybit's cadence (four connections of 50, every symbol's pushes aligned
// as Bybit's are on its 10 ms grid).
var latencyCases = []latencyCase{
	{sc: Scenario{Name: "mixed-8", Symbols: 8, Topics: TopicsMixed, Rate: "mixed"}, cadence: true},
	{sc: Scenario{Name: "mixed-50", Symbols: 50, Topics: TopicsMixed, Rate: "mixed"}, cadence: true},
	{sc: Book50x8.WithRate("10000")},
	{sc: Book50x8.WithRate("100000")},
	{sc: Scenario{Name: "mixed-200", Symbols: 200, Topics: TopicsMixed, Rate: "mixed"}, cadence: true},
}

// latencyModes are the wait modes every case runs in.
var latencyModes = []ring.Mode{ring.Park, ring.Spin}

// simChild is cmd/bybitsim running as a child process.
type simChild struct {
	cmd     *exec.Cmd
	wsURL   string
	restURL string
}

var simBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// bybitsimBinary builds cmd/bybitsim once per test process (TestMain
// removes it).
func bybitsimBinary(tb testing.TB) string {
	tb.Helper()
	simBuild.once.Do(func() {
		simBuild.dir, simBuild.err = os.MkdirTemp("", "ringfeed-bench-")
		if simBuild.err != nil {
			return
		}
		simBuild.path = filepath.Join(simBuild.dir, "bybitsim")
		out, err := exec.Command("go", "build", "-o", simBuild.path, "github.com/ringfeed/ringfeed/cmd/bybitsim").CombinedOutput()
		if err != nil {
			simBuild.err = fmt.Errorf("go build cmd/bybitsim: %v\n%s", err, out)
		}
	})
	if simBuild.err != nil {
		tb.Fatal(simBuild.err)
	}
	return simBuild.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if simBuild.dir != "" {
		os.RemoveAll(simBuild.dir)
	}
	os.Exit(code)
}

// startSimChild starts bybitsim for sc on 127.0.0.1 with a bounded
// lifetime (it exits by itself after life), and kills it at cleanup; off
// the spinner's CPU when the engine runs in mode spin (simCommand).
func startSimChild(tb testing.TB, sc Scenario, mode ring.Mode, life time.Duration) *simChild {
	tb.Helper()
	bin := bybitsimBinary(tb)
	args := []string{"--addr", "127.0.0.1:0", "--seed", "1", "--symbols", fmt.Sprint(sc.Symbols),
		"--rate", sc.Rate, "--duration", life.String()}
	cmd := simCommand(bin, args, mode)
	cmd.SysProcAttr = childProcAttr()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	// The kernel sends Pdeathsig when the thread that started the child
	// ends, not the process (go.dev/issue/27505), and a spinning
	// processor bound to a CPU ends its thread when it stops: start the
	// child from a locked thread that outlives it.
	started, release := make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		started <- cmd.Start()
		<-release
	}()
	if err := <-started; err != nil {
		close(release)
		tb.Fatalf("start bybitsim: %v", err)
	}
	c := &simChild{cmd: cmd}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		close(release)
	})
	urls := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) >= 2 && f[0] == Category:
				c.wsURL = f[1]
			case len(f) >= 2 && f[0] == "rest":
				c.restURL = f[1]
				urls <- nil
				_, _ = io.Copy(io.Discard, out) // keep the pipe drained until exit
				return
			}
		}
		urls <- errors.New("bybitsim exited before printing its URLs")
	}()
	select {
	case err := <-urls:
		if err != nil {
			tb.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		tb.Fatal("bybitsim printed no URLs within 30s")
	}
	return c
}

// latencyRun is a live engine fed by a child simulator.
type latencyRun struct {
	tb     testing.TB
	sim    *simChild
	sc     Scenario
	e      *ringfeed.Engine
	cancel context.CancelFunc
	done   chan error
}

// startLatencyRun starts a simulator child for sc and an engine in this
// process waiting in mode, and waits until every book is live.
func startLatencyRun(tb testing.TB, sc Scenario, mode ring.Mode, life time.Duration) *latencyRun {
	tb.Helper()
	sim := startSimChild(tb, sc, mode, life)
	e, err := ringfeed.New(ringfeed.Config{
		Category: Category,
		Symbols:  sc.SymbolNames(),
		Topics:   append([]string(nil), sc.Topics...),
		WSURL:    sim.wsURL,
		RESTURL:  sim.restURL,
		Admin:    "off",
		Wait:     mode,
		CPUs:     spinCPUs(mode),
		Isolate:  spinCPUs(mode) != nil && *latencyIsolate,
		NoLend:   *latencyNoLend,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatalf("ringfeed.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &latencyRun{tb: tb, sim: sim, sc: sc, e: e, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- e.Run(ctx) }()
	tb.Cleanup(r.stop)
	select {
	case <-e.Ready():
	case err := <-r.done:
		tb.Fatalf("Run ended at start: %v", err)
	case <-time.After(20 * time.Second):
		tb.Fatal("engine not ready after 20s")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := e.Stats()
		if s.Messages > 0 && s.Books > 0 && s.StaleBooks == 0 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("books not live after 30s: %v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

func (r *latencyRun) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.tb.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		r.tb.Error("Run did not return 15s after cancel")
	}
}

// latencyResult is one measured window.
type latencyResult struct {
	Elapsed time.Duration
	Msgs    uint64
	CPU     time.Duration // user + system time of this process
	Allocs  uint64
	GCs     uint32
	Drops   uint64
	Total   ringfeed.LatencyStats
	Stages  ringfeed.StageStats
	Floor   ringfeed.LatencyStats // cold-parse floor
	Pipe    floorStats            // the bare pipeline floor (floor_test.go)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure warms the run, then measures while body runs (the benchmark
// loop), optionally under an execution trace written to traceFile.
func (r *latencyRun) measure(warm time.Duration, traceFile string, body func(e *ringfeed.Engine)) latencyResult {
	time.Sleep(warm)
	r.e.ResetLatency()
	time.Sleep(300 * time.Millisecond) // processors hand over what they held at the reset
	r.e.ResetLatency()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s0 := r.e.Stats()
	var tf *os.File
	if traceFile != "" {
		var err error
		if tf, err = os.Create(traceFile); err != nil {
			r.tb.Fatal(err)
		}
		if err := trace.Start(tf); err != nil {
			r.tb.Fatal(err)
		}
	}
	c0, t0 := cpuTime(), time.Now()
	body(r.e)
	c1, t1 := cpuTime(), time.Now()
	if tf != nil {
		trace.Stop()
		tf.Close()
	}
	s1 := r.e.Stats()
	runtime.ReadMemStats(&m1)
	res := latencyResult{
		Elapsed: t1.Sub(t0),
		Msgs:    s1.Messages - s0.Messages,
		CPU:     c1 - c0,
		Allocs:  m1.Mallocs - m0.Mallocs,
		GCs:     m1.NumGC - m0.NumGC,
		Drops:   s1.RingDrops - s0.RingDrops,
	}
	r.e.CollectLatency()
	time.Sleep(300 * time.Millisecond)
	res.Total = r.e.CollectLatency()
	res.Stages = r.e.CollectStages()
	return res
}

// coldParseFloor parses frames alone on this goroutine, sleeping gap
// before each, for at most budget, and returns the parse times: what one
// parse costs on this machine when caches have gone cold between messages
// as they do at the run's cadence. The engine's parse stage is compared
// with it. syms must hold every symbol of the frames.
func coldParseFloor(frames []ringfeed.Frame, syms *parse.Symbols, gap, budget time.Duration) ringfeed.LatencyStats {
	p := parse.NewParser(syms)
	sink := &floorSink{ev: make([]parse.Event, 64)}
	h := hdrhistogram.New(10, 60e9, 3)
	n := len(frames)
	if gap > 0 {
		n = min(n, max(50, int(budget/gap)))
	}
	for i := range n {
		if gap > 0 {
			time.Sleep(gap)
		}
		sink.n = 0
		t0 := wsconn.Nanotime()
		_, _ = p.Parse(frames[i%len(frames)].Data, t0, sink)
		_ = h.RecordValue(max(10, wsconn.Nanotime()-t0))
	}
	return ringfeed.LatencyStats{Count: h.TotalCount(), P50: h.ValueAtQuantile(50), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), Max: h.Max(), Mean: h.Mean()}
}

type floorSink struct {
	ev []parse.Event
	n  int
}

func (s *floorSink) Next() *parse.Event {
	if s.n == len(s.ev) {
		return nil
	}
	s.n++
	return &s.ev[s.n-1]
}

// report publishes the figures: ns/op is per message; every stage's
// p50/p99/p99.9 in ns; cpu-cores is the process's CPU time over the window
// (1 = one core busy all the time); parse-floor-* is the cold-parse floor.
func (res latencyResult) report(b *testing.B) {
	b.Helper()
	if res.Msgs == 0 {
		b.Fatal("no message applied in the measured window")
	}
	n := float64(res.Msgs)
	b.ReportMetric(float64(res.Elapsed.Nanoseconds())/n, "ns/op")
	b.ReportMetric(float64(res.Allocs)/n, "allocs/op")
	b.ReportMetric(0, "B/op")
	b.ReportMetric(n/res.Elapsed.Seconds(), "msgs/s")
	b.ReportMetric(res.CPU.Seconds()/res.Elapsed.Seconds(), "cpu-cores")
	b.ReportMetric(float64(res.GCs), "GCs")
	b.ReportMetric(float64(res.Drops), "drops")
	for _, s := range []struct {
		name string
		l    ringfeed.LatencyStats
	}{
		{"total", res.Total}, {"queue", res.Stages.Queue}, {"parse", res.Stages.Parse},
		{"flush", res.Stages.Flush}, {"handoff", res.Stages.Handoff},
		{"wake", res.Stages.Wake}, {"apply", res.Stages.Apply}, {"parse-floor", res.Floor},
		{"floor-queue", res.Pipe.Queue}, {"floor-parse", res.Pipe.Parse},
		{"floor-wake", res.Pipe.Wake}, {"floor-total", res.Pipe.Total},
	} {
		b.ReportMetric(float64(s.l.P50), s.name+"-p50-ns")
		b.ReportMetric(float64(s.l.P99), s.name+"-p99-ns")
		b.ReportMetric(float64(s.l.P999), s.name+"-p99.9-ns")
	}
}

// targets logs the targets against the figures; it never fails a
// run on them (the machine is shared and noisy).
func (res latencyResult) targets(b *testing.B, c latencyCase, mode ring.Mode) {
	b.Helper()
	v := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	us := func(x int64) string { return time.Duration(x).String() }
	// fl sets a figure against the bare pipeline floor of the same run.
	fl := func(x, floor int64) string {
		if floor <= 0 {
			return us(x)
		}
		return fmt.Sprintf("%s, %.1f× the floor's %s", us(x), float64(x)/float64(floor), us(floor))
	}
	h, t, f := res.Stages.Handoff, res.Total, res.Pipe
	switch mode {
	case ring.Spin:
		b.Logf("spin: handoff p50 ≤ 2µs: %s (%s)", v(h.P50 <= 2000), fl(h.P50, f.Wake.P50))
		if !c.cadence {
			b.Logf("spin: handoff p99 ≤ 15µs from 1k msgs/s: %s (%s)", v(h.P99 <= 15000), fl(h.P99, f.Wake.P99))
		}
		if c.sc.Name == "mixed-8" {
			b.Logf("spin: total p50 ≤ 12µs at Bybit's cadence, 8 symbols: %s (%s)", v(t.P50 <= 12000), fl(t.P50, f.Total.P50))
		}
		if c.sc.Name == "mixed-200" {
			b.Logf("spin: total p99 ≤ 250µs at Bybit's cadence, 200 symbols: %s (%s)", v(t.P99 <= 250000), fl(t.P99, f.Total.P99))
		}
		if c.sc.Rate == "100000" {
			b.Logf("spin: total p99 ≤ 20µs at 100k msgs/s: %s (%s)", v(t.P99 <= 20000), fl(t.P99, f.Total.P99))
		}
	case ring.Park:
		b.Logf("park: handoff p50 ≤ 10µs: %s (%s)", v(h.P50 <= 10000), fl(h.P50, f.Wake.P50))
		if c.cadence {
			b.Logf("park: total p99 ≤ 100µs at Bybit's cadence: %s (%s)", v(t.P99 <= 100000), fl(t.P99, f.Total.P99))
		}
	}
	b.Logf("wake p50/p99 %s / %s", fl(res.Stages.Wake.P50, f.Wake.P50), fl(res.Stages.Wake.P99, f.Wake.P99))
	b.Logf("queue p50/p99 %s / %s", fl(res.Stages.Queue.P50, f.Queue.P50), fl(res.Stages.Queue.P99, f.Queue.P99))
	b.Logf("total p50/p99 %s / %s", fl(t.P50, f.Total.P50), fl(t.P99, f.Total.P99))
	// Means show the reader's work per message, which the percentiles of
	// a burst (one cold message, then warm ones) hide.
	mean := func(x float64) int64 { return int64(x) }
	b.Logf("reader per message (parse mean) %s; queue mean %s", fl(mean(res.Stages.Parse.Mean), mean(f.Parse.Mean)), fl(mean(res.Stages.Queue.Mean), mean(f.Queue.Mean)))
	b.Logf("parse p50/p99 %s/%s against the cold floor %s/%s", us(res.Stages.Parse.P50), us(res.Stages.Parse.P99), us(res.Floor.P50), us(res.Floor.P99))
}

// runLatencyCase is one benchmark: start, warm, measure while body runs,
// stop the engine, then measure the cold-parse floor at the run's gap.
func runLatencyCase(tb testing.TB, c latencyCase, mode ring.Mode, warm time.Duration, traceFile string, body func(e *ringfeed.Engine)) latencyResult {
	tb.Helper()
	// Frames of the same workload for the floor, generated before the
	// run (an in-process simulator at full speed) so it does not disturb
	// the measurement.
	frames, err := Generate(context.Background(), c.sc.WithRate("max"), 1, 2000)
	if err != nil {
		tb.Fatal(err)
	}
	r := startLatencyRun(tb, c.sc, mode, 10*time.Minute)
	res := r.measure(warm, traceFile, body)
	// The floor parses with the engine's scales, in a table of its own.
	syms := parse.NewSymbols()
	for _, v := range r.e.Symbols() {
		if _, err := syms.Add(v.Symbol, v.PriceScale, v.SizeScale); err != nil {
			tb.Fatal(err)
		}
	}
	r.stop()
	// The bare pipeline on the same simulator, right after the engine.
	res.Pipe = pipelineFloor(tb, r.sim.wsURL, c.sc, mode, min(max(res.Elapsed, time.Second), 5*time.Second))
	var gap time.Duration
	if res.Msgs > 0 {
		gap = res.Elapsed / time.Duration(res.Msgs)
	}
	runtime.GC() // the floor is measured with a quiet heap, like the steady engine
	res.Floor = coldParseFloor(frames, syms, gap, 2*time.Second)
	return res
}

// TestLatencySuite runs one case of BenchmarkLatency briefly so the suite
// cannot rot: the child simulator builds and serves, every stage is
// measured, both floors are taken. It checks that figures exist, never their
// size.
func TestLatencySuite(t *testing.T) {
	c := latencyCases[2] // book50-8 at 10k msgs/s
	for _, mode := range latencyModes {
		t.Run(mode.String(), func(t *testing.T) {
			if mode == ring.Spin && runtime.GOMAXPROCS(0) < 2 {
				t.Skip("spin mode needs GOMAXPROCS ≥ 2")
			}
			// The window lasts until the engine has applied a few hundred
			// messages (bounded), not a fixed time: a busy machine may
			// apply few in any given 300 ms.
			res := runLatencyCase(t, c, mode, 100*time.Millisecond, "", func(e *ringfeed.Engine) {
				from := e.Stats().Messages
				deadline := time.Now().Add(time.Minute)
				for e.Stats().Messages < from+500 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
			})
			if res.Msgs == 0 {
				t.Fatal("no message applied in the window")
			}
			for name, l := range map[string]ringfeed.LatencyStats{
				"total": res.Total, "queue": res.Stages.Queue, "parse": res.Stages.Parse,
				"flush": res.Stages.Flush, "handoff": res.Stages.Handoff, "floor": res.Floor,
				"wake": res.Stages.Wake, "apply": res.Stages.Apply,
				"pipeline floor queue": res.Pipe.Queue, "pipeline floor parse": res.Pipe.Parse,
				"pipeline floor wake": res.Pipe.Wake, "pipeline floor total": res.Pipe.Total,
			} {
				if l.Count == 0 || l.P50 <= 0 || l.P999 < l.P50 {
					t.Errorf("%s: %+v; want counted values with p99.9 ≥ p50", name, l)
				}
			}
			if res.CPU <= 0 {
				t.Errorf("CPU time over the window: %v; want > 0", res.CPU)
			}
		})
	}
}

// spinCPUs is Config.CPUs for a case in mode m: with -latency.pin a
// spinning processor gets the last CPU to itself, as README's "Wait
// modes" tells users to deploy it, and the simulator child (standing for
// the exchange, on another machine in production) runs on the others.
func spinCPUs(m ring.Mode) []int {
	if m != ring.Spin || !*latencyPin || runtime.NumCPU() < 2 {
		return nil
	}
	return []int{runtime.NumCPU() - 1}
}

// simCommand runs the simulator child, kept off the spinner's CPU when
// spinCPUs binds one and taskset is there.
func simCommand(bin string, args []string, mode ring.Mode) *exec.Cmd {
	if cpus := spinCPUs(mode); cpus != nil {
		if ts, err := exec.LookPath("taskset"); err == nil {
			others := fmt.Sprintf("0-%d", cpus[0]-1)
			return exec.Command(ts, append([]string{"-c", others, bin}, args...)...)
		}
	}
	return exec.Command(bin, args...)
}
