package bench

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/capture"
	"github.com/ringfeed/ringfeed/parse"
)

// replayCases are the recorded feeds the replay benchmarks run: the same
// workloads as the end-to-end cases, recorded once per process from a
// stepped simulator (deterministic for the seed) and read back through an
// NDJSON file with ringfeed.ReadCapture, as `ringfeed replay` reads one.
var replayCases = []struct {
	sc     Scenario
	frames int
}{
	{Book50x8, 100_000},
	{Book1000x8, 10_000},
	{Mixed200, 100_000},
	{Replay8, 200_000},
}

var feedCache struct {
	sync.Mutex
	m map[string][]ringfeed.Frame
}

// feed returns the recorded frames of sc (n data frames, seed 1), making
// them on first use: record, write NDJSON, read it back.
func feed(tb testing.TB, sc Scenario, n int) []ringfeed.Frame {
	tb.Helper()
	feedCache.Lock()
	defer feedCache.Unlock()
	key := sc.String() + "/" + itoa(n)
	if f, ok := feedCache.m[key]; ok {
		return f
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	frames, err := Generate(ctx, sc, 1, n)
	if err != nil {
		tb.Fatalf("Generate(%s): %v", sc, err)
	}
	path := filepath.Join(tb.TempDir(), "feed.ndjson")
	if err := WriteNDJSONFile(path, frames); err != nil {
		tb.Fatal(err)
	}
	back, err := ReadFeedFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(back) != len(frames) {
		tb.Fatalf("NDJSON round trip: got %d frames; want %d", len(back), len(frames))
	}
	if feedCache.m == nil {
		feedCache.m = map[string][]ringfeed.Frame{}
	}
	feedCache.m[key] = back
	return back
}

// BenchmarkReplay replays each recorded feed through ringfeed.Replay — the
// function `ringfeed replay FILE` calls, with the CLI's configuration —
// and the same frames through the conventional stack. One op is one whole
// replay (engine construction and the final dump included, as in the CLI),
// so allocs/op and allocs/msg-incl-setup count the setup too: the steady
// state's allocations are TestReplayAllocsPerMessage's. msgs/s is
// ReplayResult.MsgsPerSec, the figure the CLI prints. Handling latency in
// a replay is mostly queueing: frames are fed as fast as the ring takes
// them, so it is reported but is not the live figure.
//
// floor is the bar issue 17 sets: a bare fastjson.Parser.ParseBytes of
// every frame in one goroutine, nothing extracted, measured in the same
// run; floor-x on the ringfeed line is ringfeed's msgs/s over the floor's
// frames/s (≥ 1 means the whole engine replays faster than a generic
// parse of the same bytes).
func BenchmarkReplay(b *testing.B) {
	for _, c := range replayCases {
		b.Run(c.sc.Name+"/floor", func(b *testing.B) {
			frames := feed(b, c.sc, c.frames)
			b.SetBytes(FeedBytes(frames))
			b.ReportAllocs()
			var p fastjson.Parser
			var n int
			var elapsed time.Duration
			runtime.LockOSThread()
			cpu0 := threadCPU()
			for b.Loop() {
				start := time.Now()
				for _, f := range frames {
					if _, err := p.ParseBytes(f.Data); err != nil {
						b.Fatal(err)
					}
				}
				elapsed += time.Since(start)
				n += len(frames)
			}
			cpu := float64(threadCPU()-cpu0) / float64(n)
			runtime.UnlockOSThread()
			fps := float64(n) / elapsed.Seconds()
			b.ReportMetric(fps, "msgs/s")
			b.ReportMetric(1e9/fps, "ns/msg")
			b.ReportMetric(cpu, "cpu-ns/msg")
			lastFloor[c.sc.Name] = fps
			lastFloorCPU[c.sc.Name] = cpu
		})
		// parse is the replay reader's work alone: ringfeed's parser
		// over every frame into a reused sink, one goroutine.
		// cpu-floor-x is the floor's thread CPU per frame over this
		// one's: the replay's ceiling against the floor with a core for
		// the reader, steadier than wall-clock rates with other jobs on
		// the machine.
		b.Run(c.sc.Name+"/parse", func(b *testing.B) {
			frames := feed(b, c.sc, c.frames)
			b.SetBytes(FeedBytes(frames))
			b.ReportAllocs()
			syms := parse.NewSymbols()
			for _, s := range c.sc.SymbolNames() {
				if _, err := syms.Add(s, 8, 8); err != nil { // the engine's scales without instruments-info
					b.Fatal(err)
				}
			}
			p := parse.NewParser(syms)
			sink := &loopSink{}
			var n int
			runtime.LockOSThread()
			cpu0 := threadCPU()
			for b.Loop() {
				for _, f := range frames {
					if _, err := p.Parse(f.Data, 1, sink); err != nil && !errors.Is(err, parse.ErrUnknownSymbol) {
						b.Fatal(err)
					}
				}
				n += len(frames)
			}
			cpu := float64(threadCPU()-cpu0) / float64(n)
			runtime.UnlockOSThread()
			b.ReportMetric(cpu, "cpu-ns/msg")
			if f := lastFloorCPU[c.sc.Name]; f > 0 {
				b.ReportMetric(f/cpu, "cpu-floor-x")
			}
		})
		b.Run(c.sc.Name+"/ringfeed", func(b *testing.B) {
			frames := feed(b, c.sc, c.frames)
			b.SetBytes(FeedBytes(frames))
			b.ReportAllocs()
			var msgs uint64
			var elapsed time.Duration
			var last ringfeed.ReplayResult
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for b.Loop() {
				res, err := ringfeed.Replay(context.Background(), c.sc.ReplayConfig(), frames, 0)
				if err != nil {
					b.Fatal(err)
				}
				if res.ParseErrors != 0 || res.StaleBooks() != 0 {
					b.Fatalf("replay: %d parse errors, %d stale books", res.ParseErrors, res.StaleBooks())
				}
				msgs += res.Stats.Messages
				elapsed += res.Elapsed
				last = res
			}
			runtime.ReadMemStats(&m1)
			mps := float64(msgs) / elapsed.Seconds()
			reportReplay(b, mps, last.Stats.LatencyTotal, m0, m1, msgs)
			lastReplay[c.sc.Name] = mps
			if f := lastFloor[c.sc.Name]; f > 0 {
				b.ReportMetric(mps/f, "floor-x")
			}
		})
		if c.sc.Name == Replay8.Name {
			// The same frames read from files as `ringfeed replay FILE`
			// reads them (streamed, not loaded first): NDJSON (memory-
			// mapped) and a zstd capture (decompressed as it goes).
			for _, file := range []string{"feed.ndjson", "feed.cap.zst"} {
				b.Run(c.sc.Name+"/ringfeed-"+file, func(b *testing.B) {
					frames := feed(b, c.sc, c.frames)
					path := filepath.Join(b.TempDir(), file)
					if err := writeFeedFile(path, frames); err != nil {
						b.Fatal(err)
					}
					b.SetBytes(FeedBytes(frames))
					b.ReportAllocs()
					var msgs uint64
					var elapsed time.Duration
					for b.Loop() {
						res, err := ringfeed.ReplayFiles(context.Background(), c.sc.ReplayConfig(), []string{path}, 0)
						if err != nil {
							b.Fatal(err)
						}
						if res.ParseErrors != 0 || res.StaleBooks() != 0 || res.Frames != len(frames) {
							b.Fatalf("replay: %d frames, %d parse errors, %d stale books", res.Frames, res.ParseErrors, res.StaleBooks())
						}
						msgs += res.Stats.Messages
						elapsed += res.Elapsed
					}
					mps := float64(msgs) / elapsed.Seconds()
					b.ReportMetric(mps, "msgs/s")
					if f := lastFloor[c.sc.Name]; f > 0 {
						b.ReportMetric(mps/f, "floor-x")
					}
				})
			}
		}
		b.Run(c.sc.Name+"/peer", func(b *testing.B) {
			frames := feed(b, c.sc, c.frames)
			b.SetBytes(FeedBytes(frames))
			b.ReportAllocs()
			h := hdrhistogram.New(10, 60e9, 3)
			var msgs uint64
			var elapsed time.Duration
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for b.Loop() {
				h.Reset()
				start := time.Now()
				p := NewPeer(ringfeed.DefaultKlineWindow, ringfeed.DefaultTradeTape)
				for _, f := range frames {
					t := time.Now()
					if err := p.Handle(f.Data); err != nil {
						b.Fatal(err)
					}
					_ = h.RecordValue(max(time.Since(t).Nanoseconds(), 10))
				}
				elapsed += time.Since(start)
				msgs += uint64(p.Messages())
			}
			runtime.ReadMemStats(&m1)
			mps := float64(msgs) / elapsed.Seconds()
			lat := ringfeed.LatencyStats{Count: h.TotalCount(), P50: h.ValueAtQuantile(50), P99: h.ValueAtQuantile(99),
				P999: h.ValueAtQuantile(99.9), Max: h.Max(), Mean: h.Mean()}
			reportReplay(b, mps, lat, m0, m1, msgs)
			if rf := lastReplay[c.sc.Name]; rf > 0 {
				b.ReportMetric(rf/mps, "ringfeed-x")
			}
		})
	}
}

// lastReplay holds the last ringfeed msgs/s per feed for the peer's
// speed-up figure.
var lastReplay = map[string]float64{}

// lastFloor and lastFloorCPU hold the last floor frames/s and thread CPU
// ns per frame per feed for floor-x and cpu-floor-x.
var lastFloor, lastFloorCPU = map[string]float64{}, map[string]float64{}

// threadCPU is the calling thread's CPU time in ns (Linux; the caller
// locks its goroutine to the thread).
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// loopSink hands out 64 reused slots in turn, as a ring the processor
// keeps up with would.
type loopSink struct {
	ev [64]parse.Event
	n  int
}

func (s *loopSink) Next() *parse.Event {
	e := &s.ev[s.n&63]
	s.n++
	return e
}

func reportReplay(b *testing.B, mps float64, lat ringfeed.LatencyStats, m0, m1 runtime.MemStats, msgs uint64) {
	b.Helper()
	if msgs == 0 {
		b.Fatal("no message applied")
	}
	b.ReportMetric(mps, "msgs/s")
	b.ReportMetric(1e9/mps, "ns/msg")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(msgs), "allocs/msg-incl-setup")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC)/float64(b.N), "GCs/op")
	b.ReportMetric(float64(lat.P50), "p50-ns")
	b.ReportMetric(float64(lat.P99), "p99-ns")
	b.ReportMetric(float64(lat.P999), "p99.9-ns")
	b.ReportMetric(float64(lat.Max), "max-ns")
}

func itoa(n int) string { return strconv.Itoa(n) }

// writeFeedFile writes frames as NDJSON, or as a capture when the name
// says so (".cap", ".cap.zst": compressed).
func writeFeedFile(path string, frames []ringfeed.Frame) error {
	if strings.HasSuffix(path, ".ndjson") {
		return WriteNDJSONFile(path, frames)
	}
	w, err := capture.Create(path, capture.WriterOptions{Compress: strings.HasSuffix(path, ".zst")})
	if err != nil {
		return err
	}
	for _, f := range frames {
		if err := w.WriteFrame(f.RecvUnixNs, f.Data); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}
