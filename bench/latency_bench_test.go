package bench

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed"
)

var (
	latencyTrace   = flag.String("latency.trace", "", "BenchmarkLatency: write a Go execution trace of each measured window into this `dir` (case.trace)")
	latencyIsolate = flag.Bool("latency.isolate", false, "BenchmarkLatency: with -latency.pin, also move the process's other threads off the spinner's CPU (Config.Isolate), the floor's likewise")
	latencyNoLend  = flag.Bool("latency.nolend", false, "BenchmarkLatency: in park mode wake the processor for every message instead of letting the reader apply for it (Config.NoLend)")
	latencyPin     = flag.Bool("latency.pin", true, "BenchmarkLatency: in spin mode bind the spinning processor to the last CPU (Config.CPUs) and run the simulator child on the others")
)

// BenchmarkLatency measures the engine against cmd/bybitsim running as a
// child process (the feed outside the engine, as in production) for every
// case of latencyCases in every wait mode, and reports the handling
// latency and each stage's p50/p99/p99.9, the engine process's CPU use
// (cpu-cores), allocations and GC cycles, and the cold-parse floor
// measured in the same run (see runLatencyCase). The window is the
// benchmark time (-benchtime, e.g. 5s): the loop sleeps while the engine
// works. make bench-latency runs it.
func BenchmarkLatency(b *testing.B) {
	for _, c := range latencyCases {
		for _, mode := range latencyModes {
			name := c.sc.String() + "/" + mode.String()
			b.Run(name, func(b *testing.B) {
				tf := ""
				if *latencyTrace != "" {
					tf = filepath.Join(*latencyTrace, strings.ReplaceAll(name, "/", "_")+".trace")
				}
				b.ReportAllocs()
				res := runLatencyCase(b, c, mode, time.Second, tf, func(*ringfeed.Engine) {
					for b.Loop() {
						time.Sleep(e2eSlice)
					}
				})
				res.report(b)
				res.targets(b, c, mode)
			})
		}
	}
}
