package bench

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/wsconn"
)

var cdfOut = flag.String("cdf", "", "TestLatencyCDF: write the handling latency plot (SVG) to this `file`")

// cdfRun is how long each run of the plot is measured.
const cdfRun = 3 * time.Second

// TestLatencyCDF draws the handling latency distribution (make bench runs
// it with -cdf): ringfeed on orderbook.50 × 8 symbols at the latency
// target's 100k msgs/s and at 20k msgs/s, and the conventional stack at
// 20k msgs/s (it cannot sustain 100k: the simulator cuts it off as a slow
// client). Skipped without -cdf.
//
// The engine exports percentiles, not its histogram, so ringfeed's
// per-message latencies are rebuilt here: the engine records every frame
// with its receive time (--record, the same clock stamp the engine measures
// from) and an OnBook hook notes when each (symbol, u) was applied; joining
// the two gives frame receive → applied per message. Recording and the hook
// cost the reader a copy and the processor ~100 ns per message, so this
// run's figures are slightly worse than the benchmark's; the engine's own
// percentiles for the same run are logged beside them.
func TestLatencyCDF(t *testing.T) {
	if *cdfOut == "" {
		t.Skip("no -cdf file given")
	}
	sc := Book50x8
	var series []CDFSeries
	for _, rate := range []string{"100000", "20000"} {
		all, heads, own := ringfeedLatencies(t, sc.WithRate(rate))
		s := CDFSeries{Name: fmt.Sprintf("ringfeed, %s msgs/s", rate), Values: all}
		series = append(series, s)
		t.Logf("%s: joined n=%d; engine's own p50=%v p99=%v p99.9=%v max=%v (n=%d)", s.Name, len(all),
			time.Duration(own.P50), time.Duration(own.P99), time.Duration(own.P999), time.Duration(own.Max), own.Count)
		if rate == "100000" {
			series = append(series, CDFSeries{Name: "ringfeed, 100000 msgs/s, head of each socket read only", Values: heads})
		}
	}
	p := startPeerLive(t, sc.WithRate("20000"), 1<<21)
	time.Sleep(e2eWarm)
	p.capt.Store(true)
	time.Sleep(cdfRun)
	if err := p.stopReader(); err != nil {
		t.Fatal(err)
	}
	series = append(series, CDFSeries{Name: "conventional Go stack, 20000 msgs/s", Values: p.raw})

	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(line[strings.IndexByte(line, ':')+1:])
				break
			}
		}
	}
	note := fmt.Sprintf("orderbook.50 deltas, 8 symbols, bybitsim in the same process over 127.0.0.1, %v measured per run.\n"+
		"Machine: %d CPUs (%s), %s, %s. Made by make bench (go test ./bench -run TestLatencyCDF -cdf FILE).\n"+
		"Latency: end of the socket read that brought the frame → book updated, for both stacks.\n"+
		"Conventional stack: coder/websocket, encoding/json into structs, map book re-sorted with sort.Slice, inline in the read loop.",
		cdfRun, runtime.NumCPU(), cpu, runtime.Version(), time.Now().UTC().Format("2006-01-02"))
	var buf bytes.Buffer
	if err := WriteCDF(&buf, "ringfeed handling latency: frame receive → book applied", note, series); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*cdfOut, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ringfeedLatencies runs sc live with recording and an OnBook hook and
// returns the per-message handling latencies of the measured part, the
// latencies of the first message of each socket read only, and the
// engine's own figures for the same part.
//
// Every message of one socket read carries the same receive time, so a
// message's latency includes parsing and applying the ones before it in
// its read; the first message of a read has no such wait, so its latency
// is the pipeline's own (parse → ring → processor wake-up → apply).
func ringfeedLatencies(t *testing.T, sc Scenario) (all, heads []int64, own ringfeed.LatencyStats) {
	t.Helper()
	type applied struct {
		sym  int32
		u    int64
		mono int64
	}
	recs := make([]applied, 0, int(cdfRun.Seconds()*200_000))
	syms := map[string]int32{}
	for i, s := range sc.SymbolNames() {
		syms[s] = int32(i)
	}
	var capturing atomic.Bool
	var clock wallClock
	capture := t.TempDir() + "/cdf.capture"
	l := startLive(t, sc, func(c *ringfeed.Config) { c.Record = capture }, func(e *ringfeed.Engine) {
		clock = newWallClock() // next to the engine's own, taken in New
		e.OnBook(func(b ringfeed.BookRef) {
			if capturing.Load() && len(recs) < cap(recs) {
				recs = append(recs, applied{syms[b.Symbol()], b.Header().U, wsconn.Nanotime()})
			}
		})
	})
	l.warm(e2eWarm)
	capturing.Store(true)
	time.Sleep(cdfRun)
	capturing.Store(false)
	l.e.CollectLatency()
	time.Sleep(300 * time.Millisecond) // the processor hands over at its next housekeeping
	own = l.e.CollectLatency()
	l.stop() // Run returned: recs and the capture are complete

	frames, err := ReadFeedFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		sym int32
		u   int64
	}
	type stamp struct {
		at   int64
		head bool // first frame of its socket read
	}
	recv := make(map[key]stamp, len(frames))
	var fp fastjson.Parser
	var prev int64
	for _, f := range frames {
		head := f.RecvUnixNs != prev
		prev = f.RecvUnixNs
		v, err := fp.ParseBytes(f.Data)
		if err != nil || !strings.HasPrefix(string(v.GetStringBytes("topic")), "orderbook.") {
			continue
		}
		id, ok := syms[string(v.GetStringBytes("data", "s"))]
		if !ok {
			continue
		}
		recv[key{id, v.GetInt64("data", "u")}] = stamp{f.RecvUnixNs, head}
	}
	all = make([]int64, 0, len(recs))
	missing := 0
	for _, r := range recs {
		st, ok := recv[key{r.sym, r.u}]
		if !ok {
			missing++
			continue
		}
		lat := clock.wall(r.mono) - st.at
		all = append(all, lat)
		if st.head {
			heads = append(heads, lat)
		}
	}
	if len(all) == 0 {
		t.Fatalf("%s: no applied message matched a recorded frame (%d applied, %d frames)", sc, len(recs), len(frames))
	}
	if missing > len(recs)/100 {
		t.Errorf("%s: %d of %d applied messages have no recorded frame (recorder drops?)", sc, missing, len(recs))
	}
	return all, heads, own
}
