package bench

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/internal/cpubind"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/ring"
)

// The pipeline floor is the least any engine can do with the same feed on
// the same machine in the same run: a bare client on the simulator the
// engine just used, subscribed to the same topics, that reads each frame,
// parses it with fastjson (nothing extracted, nothing applied) and hands a
// four-stamp record per message to a consumer goroutine, which records
// the stages when it receives it. The consumer waits as the engine's
// processor does in that mode, with nothing of ours in between: spin = a
// locked OS thread busy-polling an atomic index, park = blocked on a bare
// buffered channel. Every message is handed over at once (no batching).
// So floor queue is the waiting inside a burst a generic parser cannot
// avoid, floor wake is the machine's cost of moving a stamp to a waiting
// goroutine (the engine's wake stage; its hand-off adds the processor's
// work), and floor total is the sum the engine is set against. Like the
// engine, the client opens one connection per DefaultSymbolsPerConn
// symbols, each read by its own goroutine, and every reader hands over
// to the one consumer (as the engine's readers do to one processor on
// two cores).

// floorStamps is one message's stamps on the wsconn.Nanotime clock.
type floorStamps struct {
	recv, start, done, pub int64
}

// floorStats are the pipeline floor's stages.
type floorStats struct {
	Msgs                      int64
	Queue, Parse, Wake, Total ringfeed.LatencyStats
}

// floorRingSize bounds the spin consumer's ring; a full ring drops the
// record (counted as not measured), never blocks the reader.
const floorRingSize = 4096

// floorHand is the hand-off between the floor's readers and its consumer.
type floorHand struct {
	mode  ring.Mode
	cpus  []int            // spin: the CPU the engine's spinner was bound to
	ch    chan floorStamps // park: shared by every reader
	rings []*floorRing     // spin: one per reader
	stop  atomic.Bool
}

// floorRing is one reader's single-producer ring to the spinning consumer.
type floorRing struct {
	_    [128]byte
	tail atomic.Uint64 // records published
	_    [128]byte
	head atomic.Uint64 // records consumed
	_    [128]byte
	buf  [floorRingSize]floorStamps
}

// publish hands reader i's record over; false when the consumer is
// floorRingSize behind.
func (h *floorHand) publish(i int, s floorStamps) bool {
	if h.mode == ring.Park {
		select {
		case h.ch <- s:
			return true
		default:
			return false
		}
	}
	r := h.rings[i]
	t := r.tail.Load()
	if t-r.head.Load() == floorRingSize {
		return false
	}
	r.buf[t%floorRingSize] = s
	r.tail.Store(t + 1)
	return true
}

// consume records every handed-over message until stop (spin) or the
// channel is closed (park).
func (h *floorHand) consume(wake, total *hdrhistogram.Histogram) {
	rec := func(s floorStamps) {
		now := wsconn.Nanotime()
		_ = wake.RecordValue(max(10, now-s.pub))
		_ = total.RecordValue(max(10, now-s.recv))
	}
	if h.mode == ring.Park {
		for s := range h.ch {
			rec(s)
		}
		return
	}
	runtime.LockOSThread()
	// A bound thread is never unlocked: exiting with the lock held ends
	// the thread with the goroutine, so no other goroutine inherits the
	// binding.
	// Bound as the engine binds a spinner, and isolated when the engine
	// was (-latency.isolate: the rest of the process moved off its CPU).
	bound := false
	if len(h.cpus) > 0 {
		if *latencyIsolate {
			if release, err := cpubind.Reserve(h.cpus[0]); err == nil {
				defer release()
				bound = true
			}
		} else {
			bound = cpubind.Pin(h.cpus[0]) == nil
		}
	}
	if !bound {
		defer runtime.UnlockOSThread()
	}
	for i := 0; ; i++ {
		got := false
		for _, r := range h.rings {
			head := r.head.Load()
			if t := r.tail.Load(); t != head {
				for ; head != t; head++ {
					rec(r.buf[head%floorRingSize])
				}
				r.head.Store(head)
				got = true
			}
		}
		if !got && i%64 == 0 && h.stop.Load() {
			return
		}
	}
}

// pipelineFloor runs the bare client against wsURL for window (after a
// short warm-up that skips the snapshots) and returns its stages. It is
// bounded by window plus the connections' idle timeout.
func pipelineFloor(tb testing.TB, wsURL string, sc Scenario, mode ring.Mode, window time.Duration) floorStats {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// One connection per DefaultSymbolsPerConn symbols, as the engine
	// shards (TopicNames lists the topics symbol by symbol).
	topics := sc.TopicNames()
	per := ringfeed.DefaultSymbolsPerConn * len(sc.Topics)
	var conns []*wsconn.Conn
	defer func() {
		for _, c := range conns {
			c.Close(wsconn.CloseNormal, "")
		}
	}()
	for len(topics) > 0 {
		c, err := wsconn.Dial(ctx, wsURL, wsconn.Options{IdleTimeout: 5 * time.Second})
		if err != nil {
			tb.Fatalf("floor: dial %s: %v", wsURL, err)
		}
		conns = append(conns, c)
		mine := topics[:min(per, len(topics))]
		topics = topics[len(mine):]
		for len(mine) > 0 {
			n := min(len(mine), 10)
			req, _ := json.Marshal(map[string]any{"op": "subscribe", "args": mine[:n]})
			if err := c.WriteText(req); err != nil {
				tb.Fatalf("floor: subscribe: %v", err)
			}
			mine = mine[n:]
		}
	}

	newHist := func() *hdrhistogram.Histogram { return hdrhistogram.New(10, 60e9, 3) }
	hh, ht := newHist(), newHist()
	h := &floorHand{mode: mode, cpus: spinCPUs(mode)}
	if mode == ring.Park {
		h.ch = make(chan floorStamps, floorRingSize)
	} else {
		for range conns {
			h.rings = append(h.rings, new(floorRing))
		}
	}
	var consumer sync.WaitGroup
	consumer.Go(func() { h.consume(hh, ht) })

	measureFrom := wsconn.Nanotime() + int64(300*time.Millisecond)
	end := measureFrom + int64(window)
	type readerStats struct {
		queue, parse *hdrhistogram.Histogram
		msgs         int64
	}
	rs := make([]readerStats, len(conns))
	var readers sync.WaitGroup
	for i, c := range conns {
		rs[i] = readerStats{queue: newHist(), parse: newHist()}
		readers.Go(func() {
			r := &rs[i]
			var p fastjson.Parser
			var lastEnd int64
			for {
				m, err := c.ReadMessage()
				if err != nil {
					tb.Errorf("floor: read: %v", err)
					return
				}
				start := max(m.RecvNs, lastEnd)
				_, perr := p.ParseBytes(m.Payload)
				done := wsconn.Nanotime()
				lastEnd = done
				if perr != nil || len(m.Payload) < 9 || string(m.Payload[:9]) != `{"topic":` {
					continue // acks and pongs are not market data
				}
				if m.RecvNs < measureFrom {
					continue
				}
				if m.RecvNs > end {
					return
				}
				if h.publish(i, floorStamps{m.RecvNs, start, done, done}) {
					r.msgs++
					_ = r.queue.RecordValue(max(10, start-m.RecvNs))
					_ = r.parse.RecordValue(max(10, done-start))
				}
			}
		})
	}
	readers.Wait()
	if mode == ring.Park {
		close(h.ch)
	} else {
		h.stop.Store(true)
	}
	consumer.Wait()
	hq, hp := newHist(), newHist()
	var msgs int64
	for _, r := range rs {
		hq.Merge(r.queue)
		hp.Merge(r.parse)
		msgs += r.msgs
	}
	stats := func(h *hdrhistogram.Histogram) ringfeed.LatencyStats {
		return ringfeed.LatencyStats{Count: h.TotalCount(), P50: h.ValueAtQuantile(50), P99: h.ValueAtQuantile(99),
			P999: h.ValueAtQuantile(99.9), Max: h.Max(), Mean: h.Mean()}
	}
	return floorStats{Msgs: msgs, Queue: stats(hq), Parse: stats(hp), Wake: stats(hh), Total: stats(ht)}
}
