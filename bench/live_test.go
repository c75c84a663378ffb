package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/coder/websocket"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/wsconn"
)

// live is a simulator and a ringfeed engine connected over 127.0.0.1.
type live struct {
	tb     testing.TB
	sc     Scenario
	sim    *bybitsim.Server
	e      *ringfeed.Engine
	cancel context.CancelFunc
	done   chan error
}

// startLive starts the simulator for sc and an engine subscribed to it
// (mod may change the engine's config, setup register hooks), and waits
// until every book has had its snapshot. It is stopped by tb.Cleanup.
func startLive(tb testing.TB, sc Scenario, mod func(*ringfeed.Config), setup func(*ringfeed.Engine)) *live {
	tb.Helper()
	simCfg, err := sc.SimConfig(1)
	if err != nil {
		tb.Fatal(err)
	}
	sim, err := bybitsim.Start(simCfg)
	if err != nil {
		tb.Fatalf("bybitsim.Start: %v", err)
	}
	cfg := sc.EngineConfig(sim)
	if mod != nil {
		mod(&cfg)
	}
	e, err := ringfeed.New(cfg)
	if err != nil {
		sim.Close()
		tb.Fatalf("ringfeed.New: %v", err)
	}
	if setup != nil {
		setup(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{tb: tb, sc: sc, sim: sim, e: e, cancel: cancel, done: make(chan error, 1)}
	go func() { l.done <- e.Run(ctx) }()
	tb.Cleanup(l.stop)
	select {
	case <-e.Ready():
	case err := <-l.done:
		tb.Fatalf("Run ended at start: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("engine not ready after 10s")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := e.Stats()
		if s.Messages > 0 && s.Books > 0 && s.StaleBooks == 0 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("books not live after 20s: %v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return l
}

// stop cancels the engine, waits for Run and closes the simulator.
func (l *live) stop() {
	if l.cancel == nil {
		return
	}
	l.cancel()
	l.cancel = nil
	select {
	case err := <-l.done:
		if err != nil {
			l.tb.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		l.tb.Error("Run did not return 15s after cancel")
	}
	l.sim.Close()
}

// warm lets the engine run for d, then drops the latency collected so far.
// The processor hands its histogram over at its next housekeeping tick
// (every 50 ms), so the reset is repeated after that to drop warm-up values
// that were still in the processor's hands.
func (l *live) warm(d time.Duration) {
	time.Sleep(d)
	l.e.ResetLatency()
	time.Sleep(300 * time.Millisecond)
	l.e.ResetLatency()
}

// result is what one measured window of a live or replayed run gives.
type result struct {
	Elapsed    time.Duration
	Msgs       uint64 // messages applied
	Bytes      int64  // payload bytes of the data messages
	Allocs     uint64 // heap allocations in the process
	AllocBytes uint64
	GCs        uint32
	Lat        ringfeed.LatencyStats
	Drops      uint64 // ring drops (ringfeed) during the window
	StaleBooks int    // books stale at the end
}

func (r result) msgsPerSec() float64 { return float64(r.Msgs) / r.Elapsed.Seconds() }

// report publishes r as the benchmark's figures: ns/op, allocs/op and B/op
// are per message (the suite's unit of work), overriding the loop's own.
func (r result) report(b *testing.B) {
	b.Helper()
	if r.Msgs == 0 {
		b.Fatal("no message applied in the measured window")
	}
	n := float64(r.Msgs)
	b.ReportMetric(float64(r.Elapsed.Nanoseconds())/n, "ns/op")
	b.ReportMetric(float64(r.Allocs)/n, "allocs/op")
	b.ReportMetric(float64(r.AllocBytes)/n, "B/op")
	b.ReportMetric(float64(r.Bytes)/1e6/r.Elapsed.Seconds(), "MB/s")
	b.ReportMetric(r.msgsPerSec(), "msgs/s")
	b.ReportMetric(float64(r.Allocs)/n, "allocs/msg")
	b.ReportMetric(float64(r.GCs), "GCs")
	b.ReportMetric(float64(r.Lat.P50), "p50-ns")
	b.ReportMetric(float64(r.Lat.P99), "p99-ns")
	b.ReportMetric(float64(r.Lat.P999), "p99.9-ns")
	b.ReportMetric(float64(r.Lat.Max), "max-ns")
	b.ReportMetric(float64(r.Drops)/n, "drops/msg")
}

// simBytes is the payload the simulator has sent so far. It allocates
// (the simulator's Stats builds maps): call it outside memory windows.
func simBytes(sim *bybitsim.Server) int64 {
	var n int64
	for _, v := range sim.Stats().Bytes {
		n += v
	}
	return n
}

// window measures a live engine between begin and end.
type window struct {
	l      *live
	b0     int64
	m0     runtime.MemStats
	t0     time.Time
	s0     ringfeed.Stats
	closed bool
}

func (l *live) begin() *window {
	w := &window{l: l, b0: simBytes(l.sim)}
	runtime.ReadMemStats(&w.m0)
	w.s0 = l.e.Stats()
	w.t0 = time.Now()
	return w
}

// end closes the window. The latency figures cover the window and the
// ~300 ms after it that the processor needs to hand its histogram over.
func (w *window) end() result {
	if w.closed {
		panic("BUG: window ended twice")
	}
	w.closed = true
	s1 := w.l.e.Stats()
	t1 := time.Now()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	r := result{
		Elapsed:    t1.Sub(w.t0),
		Msgs:       s1.Messages - w.s0.Messages,
		Bytes:      simBytes(w.l.sim) - w.b0,
		Allocs:     m1.Mallocs - w.m0.Mallocs,
		AllocBytes: m1.TotalAlloc - w.m0.TotalAlloc,
		GCs:        m1.NumGC - w.m0.NumGC,
		Drops:      s1.RingDrops - w.s0.RingDrops,
		StaleBooks: s1.StaleBooks,
	}
	w.l.e.CollectLatency()
	time.Sleep(300 * time.Millisecond)
	r.Lat = w.l.e.CollectLatency()
	return r
}

// peerLive is the conventional stack connected to a simulator: a
// coder/websocket reader goroutine calling Peer.Handle inline for every
// message, as a read-loop callback does.
type peerLive struct {
	tb     testing.TB
	sim    *bybitsim.Server
	conn   *websocket.Conn
	tc     *timedDialer
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set by the reader before done closes

	msgs  atomic.Uint64
	reset atomic.Bool
	// Owned by the reader until done is closed.
	peer *Peer
	hist *hdrhistogram.Histogram
	raw  []int64 // per-message latencies when capturing, up to cap
	capt atomic.Bool
}

func startPeerLive(tb testing.TB, sc Scenario, rawCap int) *peerLive {
	tb.Helper()
	simCfg, err := sc.SimConfig(1)
	if err != nil {
		tb.Fatal(err)
	}
	sim, err := bybitsim.Start(simCfg)
	if err != nil {
		tb.Fatalf("bybitsim.Start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The peer's receive time is the end of the socket read that brought
	// the message's last byte, as wsconn stamps RecvNs for ringfeed: a
	// message waiting in the client's buffers while earlier ones are
	// handled counts, on both sides.
	tc := &timedDialer{}
	c, _, err := websocket.Dial(ctx, sim.URL(Category), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: tc.DialContext}},
	})
	if err != nil {
		cancel()
		sim.Close()
		tb.Fatalf("websocket.Dial: %v", err)
	}
	c.SetReadLimit(64 << 20)
	p := &peerLive{tb: tb, sim: sim, conn: c, tc: tc, cancel: cancel, done: make(chan struct{}),
		peer: NewPeer(ringfeed.DefaultKlineWindow, ringfeed.DefaultTradeTape),
		hist: hdrhistogram.New(10, 60e9, 3), raw: make([]int64, 0, rawCap)}
	tb.Cleanup(p.stop)
	topics := sc.TopicNames()
	for i := 0; i < len(topics); i += 10 {
		req, _ := json.Marshal(map[string]any{"op": "subscribe", "args": topics[i:min(i+10, len(topics))]})
		if err := c.Write(ctx, websocket.MessageText, req); err != nil {
			tb.Fatalf("subscribe: %v", err)
		}
	}
	go p.read(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for p.msgs.Load() == 0 {
		if time.Now().After(deadline) {
			tb.Fatal("peer: no data after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

func (p *peerLive) read(ctx context.Context) {
	defer close(p.done)
	for {
		_, data, err := p.conn.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				p.err = err
			}
			return
		}
		recv := p.tc.lastRead()
		before := p.peer.Messages()
		if err := p.peer.Handle(data); err != nil {
			p.err = err
			return
		}
		if p.peer.Messages() == before {
			continue // ack
		}
		lat := wsconn.Nanotime() - recv
		if p.reset.Load() {
			p.hist.Reset()
			p.reset.Store(false)
		}
		_ = p.hist.RecordValue(max(lat, 10))
		if p.capt.Load() && len(p.raw) < cap(p.raw) {
			p.raw = append(p.raw, lat)
		}
		p.msgs.Add(1)
	}
}

// stopReader ends the reader goroutine and returns its error, if any.
func (p *peerLive) stopReader() error {
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		return errors.New("peer reader did not stop 15s after cancel")
	}
	return p.err
}

func (p *peerLive) stop() {
	if err := p.stopReader(); err != nil {
		p.tb.Errorf("peer: %v", err)
	}
	p.conn.CloseNow()
	p.sim.Close()
}

// measure runs the peer for a warm-up, then measures while loop runs.
func (p *peerLive) measure(warm time.Duration, loop func()) (result, error) {
	time.Sleep(warm)
	p.reset.Store(true)
	b0 := simBytes(p.sim)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	n0 := p.msgs.Load()
	t0 := time.Now()
	loop()
	n1 := p.msgs.Load()
	t1 := time.Now()
	runtime.ReadMemStats(&m1)
	r := result{
		Elapsed:    t1.Sub(t0),
		Msgs:       n1 - n0,
		Bytes:      simBytes(p.sim) - b0,
		Allocs:     m1.Mallocs - m0.Mallocs,
		AllocBytes: m1.TotalAlloc - m0.TotalAlloc,
		GCs:        m1.NumGC - m0.NumGC,
	}
	if err := p.stopReader(); err != nil {
		return r, fmt.Errorf("peer: %w", err)
	}
	h := p.hist
	r.Lat = ringfeed.LatencyStats{Count: h.TotalCount(), P50: h.ValueAtQuantile(50), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), Max: h.Max(), Mean: h.Mean()}
	return r, nil
}

// timedDialer dials TCP connections that note when each socket read
// returns (wsconn.Nanotime), for the peer's receive time.
type timedDialer struct {
	last atomic.Int64
}

func (d *timedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &timedConn{Conn: c, d: d}, nil
}

// lastRead is the time the latest socket read returned.
func (d *timedDialer) lastRead() int64 { return d.last.Load() }

type timedConn struct {
	net.Conn
	d *timedDialer
}

func (c *timedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.d.last.Store(wsconn.Nanotime())
	return n, err
}
