package bybitsim

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Server is a running simulator. All methods are safe for concurrent use.
type Server struct {
	cfg       Config
	ln        net.Listener
	hs        *http.Server
	t0        time.Time
	t0ms      int64
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	stats     counters

	// mu guards everything below, all markets and all streams. The
	// generator holds it for one step at a time.
	mu         sync.Mutex
	closed     bool
	markets    [numCategories]map[string]*market
	marketList [numCategories][]*market
	bases      map[string][]*market // option base coin -> its options
	streams    [numCategories]map[string]*stream
	active     []*stream
	activeMk   []*market
	conns      []*conn
	stalledC   []*conn
	paused     bool
	tickN      uint64
	idRng      *rand.Rand
	buf, snap  []byte
	idx        []int
	crossLv    [1]level
	delivered  int
	refuseN    int
	refuseCode int
	delayN     int
	delayD     time.Duration
}

// counters are the Server's statistics, updated with atomics so that
// reading them never waits on the generator.
type counters struct {
	connsAccepted, handshakesRefused, handshakesDelayed atomic.Int64
	subsOK, subsFailed, unsubsOK                        atomic.Int64
	pings, controlPongs, serverPings, pongsReceived     atomic.Int64
	pingsStalled                                        atomic.Int64
	faults                                              atomic.Int64
	faultsBy                                            [numFaultKinds]atomic.Int64
	slowDrops, idleCloses                               atomic.Int64
	msgs, bytes                                         [numCategories][numKinds]atomic.Int64
	wireBytes                                           atomic.Int64
}

// mixedEvery is each stream's RateMixed cadence in 10 ms generator steps.
const mixedStep = 10 * time.Millisecond

func mixedEvery(cat category, k kind, depth int) uint64 {
	switch k {
	case kindBook:
		switch depth {
		case 1:
			return 1
		case 50, 25:
			return 2
		case 200, 100:
			return 10
		}
		return 20
	case kindTicker:
		if cat == catSpot {
			return 5
		}
		return 10
	case kindKline:
		return 100
	}
	return 1
}

// Start builds the markets, listens on cfg.Addr and starts serving. Stop it
// with Close.
func Start(cfg Config) (*Server, error) {
	c := cfg.withDefaults()
	err := c.validate()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, done: make(chan struct{}), bases: map[string][]*market{}}
	s.idRng = rand.New(rand.NewPCG(c.Seed, c.Seed^0x5851f42d4c957f2d))
	for i := range numCategories {
		s.markets[i] = map[string]*market{}
		s.streams[i] = map[string]*stream{}
	}
	for _, in := range c.Instruments {
		m, err := newMarket(in, c.Seed, c.KlineHistory)
		if err != nil {
			return nil, err
		}
		s.markets[m.cat][m.sym] = m
		s.marketList[m.cat] = append(s.marketList[m.cat], m)
		if m.cat == catOption {
			s.bases[m.base] = append(s.bases[m.base], m)
		}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("bybitsim: listen %s: %w", c.Addr, err)
	}
	s.ln = ln
	s.t0 = time.Now()
	s.t0ms = s.t0.UnixMilli()
	for _, l := range s.marketList {
		for _, m := range l {
			m.evTime = s.t0ms
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v5/public/{category}", s.serveWS)
	mux.HandleFunc("GET /v5/market/time", s.restTime)
	mux.HandleFunc("GET /v5/market/instruments-info", s.restInstruments)
	mux.HandleFunc("GET /v5/market/orderbook", s.restOrderbook)
	mux.HandleFunc("GET /v5/market/kline", s.restKline)
	mux.HandleFunc("GET /v5/market/recent-trade", s.restRecentTrade)
	s.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = s.hs.Serve(ln)
	}()
	go s.run()
	if c.Faults.PerSecond > 0 {
		s.wg.Add(1)
		go s.faultLoop()
	}
	return s, nil
}

// Addr returns the listening address, e.g. "127.0.0.1:41234".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the WebSocket URL of a category ("spot", "linear", "inverse",
// "option"): ws://127.0.0.1:PORT/v5/public/linear.
func (s *Server) URL(category string) string {
	return "ws://" + s.Addr() + "/v5/public/" + category
}

// RESTURL returns the base URL of the REST endpoints: http://127.0.0.1:PORT.
func (s *Server) RESTURL() string { return "http://" + s.Addr() }

// Close stops the generator, closes every connection (close frame 1001,
// then a reset after one second for clients that do not read) and waits
// for every goroutine the Server started. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := append([]*conn(nil), s.conns...)
		s.mu.Unlock()
		close(s.done)
		_ = s.hs.Close()
		for _, c := range conns {
			c.closeGraceful(ws.StatusGoingAway, "server closing")
		}
		waited := make(chan struct{})
		go func() {
			s.wg.Wait()
			close(waited)
		}()
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-waited:
		case <-t.C:
			for _, c := range conns {
				c.stop()
			}
			<-waited
		}
	})
	return nil
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// simNow is the simulated clock in ms: real time since Start, scaled by
// TimeScale, from the wall-clock time of Start.
func (s *Server) simNow() int64 {
	return s.t0ms + int64(float64(time.Since(s.t0))*s.cfg.TimeScale/1e6)
}

// ---- WebSocket endpoint

var errClosed = errors.New("bybitsim: server closed")

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	cat, ok := parseCategory(r.PathValue("category"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	refuse, code := s.refuseN > 0, s.refuseCode
	if refuse {
		s.refuseN--
	}
	// A refused handshake does not spend a pending delay: the delay is for
	// the next handshake that is accepted.
	var delay time.Duration
	if !refuse && s.delayN > 0 {
		s.delayN--
		delay = s.delayD
	}
	s.mu.Unlock()
	if refuse {
		s.stats.handshakesRefused.Add(1)
		msg := "Too Many Requests"
		if code == http.StatusForbidden {
			msg = "access too frequent"
		}
		http.Error(w, msg, code)
		return
	}
	if delay > 0 {
		s.stats.handshakesDelayed.Add(1)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			http.Error(w, errClosed.Error(), http.StatusServiceUnavailable)
			return
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	nc, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		if nc != nil {
			_ = nc.Close()
		}
		return
	}
	c := s.register(cat, nc, rw.Reader)
	if c == nil {
		_ = nc.Close()
		return
	}
	defer s.wg.Done()
	go c.writer()
	c.readLoop()
	c.stop()
	<-c.writerDone
	s.mu.Lock()
	s.unregister(c)
	s.mu.Unlock()
}

func (s *Server) register(cat category, nc net.Conn, br *bufio.Reader) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	now := time.Now().UnixNano()
	c := &conn{
		s: s, cat: cat, nc: nc, br: br, remote: nc.RemoteAddr().String(),
		wake: make(chan struct{}, 1), space: make(chan struct{}, 1),
		kill: make(chan struct{}), writerDone: make(chan struct{}),
		subs: map[string]*sub{}, connIdx: len(s.conns),
	}
	c.id = s.newConnID(cat)
	c.lastRecv.Store(now)
	c.lastData.Store(now)
	s.conns = append(s.conns, c)
	s.wg.Add(1)
	s.stats.connsAccepted.Add(1)
	return c
}

func (s *Server) unregister(c *conn) {
	for len(c.order) > 0 { // detach shortens c.order
		s.detach(c.subs[c.order[len(c.order)-1]])
	}
	c.subs = nil
	last := len(s.conns) - 1
	s.conns[c.connIdx] = s.conns[last]
	s.conns[c.connIdx].connIdx = c.connIdx
	s.conns = s.conns[:last]
	for i, x := range s.stalledC {
		if x == c {
			s.stalledC = append(s.stalledC[:i], s.stalledC[i+1:]...)
			break
		}
	}
}

// newConnID makes a conn_id in the category's observed format.
func (s *Server) newConnID(cat category) string {
	r := s.idRng
	switch cat {
	case catSpot: // "d9avrj8i70nu0j2a80n0-9cfc4"
		const a = "0123456789abcdefghijklmnopqrstuv"
		const b = "0123456789abcdefghijklmnopqrstuvwxyz"
		var id [26]byte
		for i := range 20 {
			id[i] = a[r.IntN(len(a))]
		}
		id[20] = '-'
		for i := 21; i < 26; i++ {
			id[i] = b[r.IntN(len(b))]
		}
		return string(id[:])
	case catOption: // "461834fffe84142f-00000001-000c2ffe-1fd4e17e7fe53c8b-2c14741e"
		return fmt.Sprintf("%016x-%08x-%08x-%016x-%08x", r.Uint64(), r.Uint32()&0xff, r.Uint32()&0xfffff, r.Uint64(), r.Uint32())
	}
	return string(appendUUID(nil, r.Uint64(), r.Uint64()))
}

// ---- generator

// run is the generator goroutine: it steps the active markets and publishes
// the active streams at the configured rate until Close.
func (s *Server) run() {
	defer s.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	sleep := func(d time.Duration) bool { return timerSleep(t, s.done, d) }
	switch r := s.cfg.Rate; r.Mode {
	case RateMixed:
		next := time.Now()
		for {
			next = next.Add(mixedStep)
			if now := time.Now(); now.Sub(next) > 10*mixedStep {
				next = now // fell far behind (paused debugger, overload): do not burst
			}
			if !sleep(time.Until(next)) {
				return
			}
			s.tickLocked()
		}
	case RatePerStream, RateTotal:
		p := newPacer(s.done)
		defer p.close()
		now := time.Since(s.t0).Nanoseconds()
		var wake func(now int64, step func() int) (time.Duration, int)
		if r.Mode == RateTotal {
			b := newBucket(r.PerSecond, now)
			wake = b.wake
		} else {
			tk := newTicker(r.PerSecond, now)
			wake = tk.wake
		}
		step := s.tickLocked // one method value, not one per wake-up
		for {
			wait, _ := wake(time.Since(s.t0).Nanoseconds(), step)
			if !p.sleep(wait) {
				return
			}
		}
	case RateMax:
		for {
			select {
			case <-s.done:
				return
			default:
			}
			if !s.waitSpace(t) {
				return
			}
			if s.tickLocked() < 0 && !sleep(time.Millisecond) {
				return
			}
		}
	}
}

// waitSpace blocks (RateMax only) while some live connection's queue holds
// more than half of QueueBytes: backpressure instead of a disconnect.
func (s *Server) waitSpace(t *time.Timer) bool {
	half := int64(s.cfg.QueueBytes / 2)
	for {
		var full *conn
		s.mu.Lock()
		now := time.Now().UnixNano()
		for _, c := range s.conns {
			if c.queued.Load() > half && !c.stalled(now) {
				full = c
				break
			}
		}
		s.mu.Unlock()
		if full == nil {
			return true
		}
		t.Reset(10 * time.Millisecond)
		select {
		case <-full.space:
		case <-full.kill:
		case <-t.C:
		case <-s.done:
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// tickLocked runs one generator step unless paused or idle (no stream
// subscribed); it returns the number of data messages queued, -1 when idle.
func (s *Server) tickLocked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused || (len(s.active) == 0 && len(s.stalledC) == 0) {
		return -1
	}
	return s.tick()
}

// Pause stops the generator: once Pause returns no market moves and no
// data message is queued (subscribe snapshots excepted) until Resume.
// Messages already queued still go out; wait for them before comparing.
func (s *Server) Pause() {
	s.mu.Lock()
	s.paused = true
	s.mu.Unlock()
}

// Resume restarts the generator after Pause.
func (s *Server) Resume() {
	s.mu.Lock()
	s.paused = false
	s.mu.Unlock()
}

// Step runs n generator steps now, on the caller's goroutine, paused or
// not, and returns the number of data messages queued. Tests pause the
// Server and step it to get an exact, repeatable sequence of messages.
func (s *Server) Step(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for range n {
		total += s.tick()
	}
	return total
}

// tick is one generator step: every active market takes one or more
// events, then every active stream that is due publishes what changed.
func (s *Server) tick() int {
	s.tickN++
	s.delivered = 0
	now, real := s.simNow(), time.Now().UnixNano()
	if len(s.stalledC) > 0 {
		s.resnapStalled(now, real)
	}
	for _, m := range s.activeMk {
		n := 1
		if s.cfg.Rate.Mode == RateMixed {
			n += m.rng.IntN(3)
		}
		for range n {
			m.step(now)
		}
		m.rollKlines(now)
	}
	for _, st := range s.active {
		s.publish(st, now, real)
	}
	return s.delivered
}

func itoa(i int) string { return strconv.Itoa(i) }
