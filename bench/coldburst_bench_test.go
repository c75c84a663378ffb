package bench

import (
	"context"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// ringSlots hands out the next slot of a ring as a parse.Sink and releases
// it at once: the reader's writes into the ring, without a consumer.
type ringSlots struct{ r *ring.SPSC[parse.Event] }

func (s ringSlots) Next() *parse.Event {
	e := s.r.Reserve()
	if e == nil {
		s.r.Publish()
		s.r.Release(len(s.r.Peek()))
		e = s.r.Reserve()
	}
	return e
}

// fewSlots cycles through a handful of slots that stay in cache.
type fewSlots struct {
	buf [64]parse.Event
	i   int
}

func (s *fewSlots) Next() *parse.Event {
	e := &s.buf[s.i%len(s.buf)]
	s.i++
	return e
}

// BenchmarkColdBurst parses bursts of ten frames of the mixed feed after
// evicting the caches (24 MiB written between bursts, as the 10 ms between
// Bybit's pushes does with the simulator beside the reader), and reports
// ns-per-msg for the parse alone: a bare fastjson parse (the pipeline
// floor's reader), the engine's parser into a few slots that stay in
// cache, into an 8,192-slot ring (the engine's, its pages faulted in by
// ring.New), and into heap slots never written before (a ring's first lap
// before ring.New did that: a page fault every few messages). It is how
// the reader's excess over the floor in BenchmarkLatency was traced to the
// ring (bench/RESULTS.md, session 5).
func BenchmarkColdBurst(b *testing.B) {
	sc := Scenario{Name: "mixed-8", Symbols: 8, Topics: TopicsMixed, Rate: "mixed"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fr, err := Generate(ctx, sc, 1, 4000)
	if err != nil {
		b.Fatal(err)
	}
	var frames [][]byte
	for _, f := range fr {
		if isDataFrame(f.Data) {
			frames = append(frames, f.Data)
		}
	}
	syms := parse.NewSymbols()
	for _, n := range sc.SymbolNames() {
		if _, err := syms.Add(n, 6, 6); err != nil {
			b.Fatal(err)
		}
	}
	evict := make([]byte, 24<<20)
	const burst = 10
	run := func(b *testing.B, f func(p []byte) error) {
		b.ReportAllocs()
		var ns, n int64
		i := 0
		for b.Loop() {
			for j := 0; j < len(evict); j += 64 {
				evict[j]++
			}
			if i+burst > len(frames) {
				i = 0
			}
			t0 := time.Now()
			for _, p := range frames[i : i+burst] {
				if err := f(p); err != nil {
					b.Fatal(err)
				}
			}
			ns += time.Since(t0).Nanoseconds()
			n += burst
			i += burst
		}
		b.ReportMetric(float64(ns)/float64(n), "ns-per-msg")
	}
	b.Run("fastjson", func(b *testing.B) {
		var p fastjson.Parser
		run(b, func(f []byte) error { _, err := p.ParseBytes(f); return err })
	})
	b.Run("parser/cached-slots", func(b *testing.B) {
		p, s := parse.NewParser(syms), &fewSlots{}
		run(b, func(f []byte) error { _, err := p.Parse(f, 1, s); return err })
	})
	b.Run("parser/ring", func(b *testing.B) {
		r := ring.New[parse.Event](8192)
		p, s := parse.NewParser(syms), ringSlots{r}
		run(b, func(f []byte) error { _, err := p.Parse(f, 1, s); return err })
	})
	b.Run("parser/untouched-slots", func(b *testing.B) {
		p, s := parse.NewParser(syms), &freshSlots{}
		run(b, func(f []byte) error { _, err := p.Parse(f, 1, s); return err })
	})
}

// freshSlots hands out slots of heap memory never written before, as a
// ring's first lap did before ring.New faulted its pages in: a slot array
// taken fresh from the OS is mapped page by page as it is first written.
type freshSlots struct {
	buf []parse.Event
	i   int
}

func (s *freshSlots) Next() *parse.Event {
	if s.i == len(s.buf) {
		s.buf, s.i = make([]parse.Event, 8192), 0
	}
	s.i++
	return &s.buf[s.i-1]
}
