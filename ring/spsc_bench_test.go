package ring

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// event is the benchmark slot: a sequence number and a payload whose size
// sets the slot size.
type event[P any] struct {
	Seq uint64
	P   P
}

// small makes a 16-byte slot: a trade's price, say.
type small struct{ Px int64 }

type level struct{ Px, Qty int64 }

// large makes a 512-byte slot, the size of a parsed book message with a few
// dozen levels: a header and 29 price levels.
type large struct {
	TS, Recv, U, CrossSeq int64
	Sym                   uint32
	Kind, Side, N         uint8
	Levels                [29]level
}

var (
	tmplSmall = small{Px: 6500010}
	tmplLarge = func() large {
		l := large{TS: 1733011200691, Recv: 1733011200700, U: 42, Sym: 7, Kind: 2, N: 29}
		for i := range l.Levels {
			l.Levels[i] = level{Px: 6500010 - int64(i), Qty: 1234 + int64(i)}
		}
		return l
	}()
)

func slotSize[T any]() int64 { return int64(reflect.TypeFor[T]().Size()) }

func TestBenchSlotSizes(t *testing.T) {
	if got := slotSize[event[small]](); got != 16 {
		t.Errorf("small slot is %d bytes; want 16", got)
	}
	if got := slotSize[event[large]](); got != 512 {
		t.Errorf("large slot is %d bytes; want 512", got)
	}
}

// sink keeps the consumers' sums alive.
var sink uint64

// BenchmarkSingleGoroutine moves one slot per op through the ring and the
// consumer side within one goroutine: Reserve+fill+Publish+Peek+Release (or
// the Wait variants), publishing and draining every batch slots, against a
// buffered channel doing the same.
func BenchmarkSingleGoroutine(b *testing.B) {
	b.Run("16B", func(b *testing.B) { benchSingle(b, tmplSmall) })
	b.Run("512B", func(b *testing.B) { benchSingle(b, tmplLarge) })
}

func benchSingle[P any](b *testing.B, tmpl P) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("ring/batch%d", batch), func(b *testing.B) {
			r := New[event[P]](1024)
			b.SetBytes(slotSize[event[P]]())
			b.ReportAllocs()
			var seq, sum uint64
			k := 0
			for b.Loop() {
				s := r.Reserve()
				s.Seq = seq
				s.P = tmpl
				seq++
				if k++; k == batch {
					k = 0
					r.Publish()
					for bt := r.Peek(); bt != nil; bt = r.Peek() {
						for i := range bt {
							sum += bt[i].Seq
						}
						r.Release(len(bt))
					}
				}
			}
			sink += sum
		})
		b.Run(fmt.Sprintf("ring-wait/batch%d", batch), func(b *testing.B) {
			r := New[event[P]](1024)
			b.SetBytes(slotSize[event[P]]())
			b.ReportAllocs()
			var seq, sum uint64
			k := 0
			for b.Loop() {
				s, _ := r.ReserveWait(time.Second)
				s.Seq = seq
				s.P = tmpl
				seq++
				if k++; k == batch {
					k = 0
					r.Publish()
					for r.Len() > 0 {
						bt, _ := r.PeekWait()
						for i := range bt {
							sum += bt[i].Seq
						}
						r.Release(len(bt))
					}
				}
			}
			sink += sum
		})
		b.Run(fmt.Sprintf("chan/batch%d", batch), func(b *testing.B) {
			ch := make(chan event[P], 1024)
			b.SetBytes(slotSize[event[P]]())
			b.ReportAllocs()
			var seq, sum uint64
			k := 0
			for b.Loop() {
				ch <- event[P]{Seq: seq, P: tmpl}
				seq++
				if k++; k == batch {
					for range k {
						e := <-ch
						sum += e.Seq
					}
					k = 0
				}
			}
			sink += sum
		})
	}
}

// benchWaits are the wait strategies the two-goroutine benchmarks compare;
// both sides use the same one.
var benchWaits = []struct {
	name string
	w    Mode
}{
	{"spin", Spin},
	{"park", Park},
}

// BenchmarkThroughput moves slots from the benchmark goroutine to a consumer
// goroutine through a 1024-slot ring, one slot per op, and reports slots/s.
// The producer writes the whole slot; the consumer checks each sequence
// number. "batch64" publishes every 64 slots (as the reader does once per
// socket read), "batch1" after every slot; the last path element is the wait
// strategy of both sides; "chan" is a buffered channel of the same capacity.
func BenchmarkThroughput(b *testing.B) {
	for _, batch := range []int{64, 1} {
		for _, s := range benchWaits {
			opts := Options{Consumer: s.w, Producer: s.w}
			b.Run(fmt.Sprintf("16B/batch%d/%s", batch, s.name), func(b *testing.B) { benchThroughput(b, tmplSmall, batch, opts) })
			b.Run(fmt.Sprintf("512B/batch%d/%s", batch, s.name), func(b *testing.B) { benchThroughput(b, tmplLarge, batch, opts) })
		}
	}
	b.Run("16B/chan", func(b *testing.B) { benchThroughputChan(b, tmplSmall) })
	b.Run("512B/chan", func(b *testing.B) { benchThroughputChan(b, tmplLarge) })
}

func benchThroughput[P any](b *testing.B, tmpl P, batch int, opts Options) {
	r := NewWithOptions[event[P]](1024, opts)
	got := make(chan uint64, 1)
	go func() {
		var want uint64
		for {
			bt, err := r.PeekWait()
			if err != nil {
				break
			}
			for i := range bt {
				if bt[i].Seq != want {
					got <- ^uint64(0)
					return
				}
				want++
			}
			r.Release(len(bt))
		}
		got <- want
	}()
	b.SetBytes(slotSize[event[P]]())
	b.ReportAllocs()
	var seq uint64
	k := 0
	for b.Loop() {
		s, err := r.ReserveWait(time.Minute)
		if err != nil {
			b.Fatalf("ReserveWait at %d: %v", seq, err)
		}
		s.Seq = seq
		s.P = tmpl
		seq++
		if k++; k == batch {
			k = 0
			r.Publish()
		}
	}
	elapsed := b.Elapsed()
	r.Publish()
	r.Close()
	if n := <-got; n != seq {
		b.Fatalf("consumer took %d slots in order; want %d", n, seq)
	}
	b.ReportMetric(float64(seq)/elapsed.Seconds(), "slots/s")
}

func benchThroughputChan[P any](b *testing.B, tmpl P) {
	ch := make(chan event[P], 1024)
	got := make(chan uint64, 1)
	go func() {
		var want uint64
		for e := range ch {
			if e.Seq != want {
				got <- ^uint64(0)
				return
			}
			want++
		}
		got <- want
	}()
	b.SetBytes(slotSize[event[P]]())
	b.ReportAllocs()
	var seq uint64
	for b.Loop() {
		ch <- event[P]{Seq: seq, P: tmpl}
		seq++
	}
	elapsed := b.Elapsed()
	close(ch)
	if n := <-got; n != seq {
		b.Fatalf("consumer took %d slots in order; want %d", n, seq)
	}
	b.ReportMetric(float64(seq)/elapsed.Seconds(), "slots/s")
}

// BenchmarkHandoffLatency measures one-way latency, from just before Publish
// to the consumer's return from PeekWait, of 16-byte slots published one at
// a time every 20µs by a producer that stays busy in between (a reader
// parsing, not blocking), so the consumer is waiting when each slot comes
// and a parked consumer runs only when another P picks it up. The gap is
// consumer waits per the named strategy; "chan" is a buffered channel. Each
// figure includes a clock read (tens of ns).
func BenchmarkHandoffLatency(b *testing.B) {
	for _, s := range benchWaits {
		b.Run(s.name, func(b *testing.B) { benchLatency(b, Options{Consumer: s.w, Producer: s.w}) })
	}
	b.Run("chan", benchLatencyChan)
}

// handoffGap is the time between two published slots in
// BenchmarkHandoffLatency.
const handoffGap = 20 * time.Microsecond

// latencies keeps the last len(lat) one-way samples in nanoseconds.
type latencies struct {
	base time.Time
	lat  []int64
	n    int
}

func newLatencies() *latencies {
	return &latencies{base: time.Now(), lat: make([]int64, 1<<16)}
}

func (l *latencies) now() int64 { return int64(time.Since(l.base)) }

func (l *latencies) add(sent int64) {
	l.lat[l.n&(len(l.lat)-1)] = l.now() - sent
	l.n++
}

// pace busy-waits, without yielding, until handoffGap has passed since the
// previous call, and returns the clock then.
func (l *latencies) pace(last int64) int64 {
	for {
		if now := l.now(); now-last >= int64(handoffGap) {
			return now
		}
	}
}

// report sorts the samples and reports p50 and p99.
func (l *latencies) report(b *testing.B) {
	s := l.lat[:min(l.n, len(l.lat))]
	if len(s) == 0 {
		return
	}
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2]), "p50-ns")
	b.ReportMetric(float64(s[len(s)*99/100]), "p99-ns")
}

func benchLatency(b *testing.B, opts Options) {
	r := NewWithOptions[event[small]](1024, opts)
	l := newLatencies()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			bt, err := r.PeekWait()
			if err != nil {
				return
			}
			for i := range bt {
				l.add(bt[i].P.Px)
			}
			r.Release(len(bt))
		}
	}()
	b.ReportAllocs()
	var last int64
	for b.Loop() {
		last = l.pace(last)
		s, err := r.ReserveWait(time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		s.P.Px = l.now()
		r.Publish()
	}
	r.Close()
	<-done
	l.report(b)
}

func benchLatencyChan(b *testing.B) {
	ch := make(chan event[small], 1024)
	l := newLatencies()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			l.add(e.P.Px)
		}
	}()
	b.ReportAllocs()
	var last int64
	for b.Loop() {
		last = l.pace(last)
		ch <- event[small]{P: small{Px: l.now()}}
	}
	close(ch)
	<-done
	l.report(b)
}
