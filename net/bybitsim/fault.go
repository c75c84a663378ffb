package bybitsim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"
)

// FaultKind names one kind of injected fault.
type FaultKind uint8

// The faults. Connection faults act on Fault.Conn (a conn_id as sent in
// acks; "" = every open connection); stream faults on Fault.Category and
// Fault.Topic (global: every subscriber of the stream sees them); handshake
// faults on the next connection attempts. Every fault leaves the reference
// state (Book, Ticker, Kline, Trades) meaningful: a client that resyncs
// (resubscribes) or reconnects converges to it.
const (
	// FaultDropMessages resets the TCP connection (no close frame: the
	// client sees 1006) after N more data messages.
	FaultDropMessages FaultKind = iota
	// FaultDropAfter resets the TCP connection after D.
	FaultDropAfter
	// FaultStall stops the connection for D: nothing is written, pings
	// (control and {"op":"ping"}) go unanswered, the socket stays open.
	// Data for it is not queued meanwhile; afterwards its book and ticker
	// subscriptions get a fresh snapshot of the sent state (trades and
	// klines of the stall are lost to it), so it converges without a gap.
	// A stall replaces one in progress: a short D ends a long one early.
	FaultStall
	// FaultGarbage sends one text frame that is not JSON.
	FaultGarbage
	// FaultBinary sends one binary frame.
	FaultBinary
	// FaultOversize sends one text frame of Size bytes (default 1 MiB).
	FaultOversize
	// FaultSkipDelta withholds the next delta of an orderbook stream: its
	// u is spent and Book includes it, so subscribers see a u gap and must
	// resync (the new snapshot equals Book).
	FaultSkipDelta
	// FaultRestart makes the next orderbook message a snapshot with u=1,
	// then deltas 2, 3, ... (a Bybit service restart).
	FaultRestart
	// FaultCrossDelta replaces the next delta of an orderbook stream with
	// one that adds a bid at the best ask's price (a crossed book). It
	// spends a u; Book then has that U but not the bad level, and the
	// withheld real changes follow as the next delta (U+1) computed against
	// Book. A client that notices the cross and resyncs gets Book exactly;
	// one that keeps applying deltas keeps the bad bid.
	FaultCrossDelta
	// FaultFragment splits every later data message longer than Size bytes
	// into continuation frames of Size bytes (Size 0 turns it off); with
	// Ping a ping control frame goes between the first two fragments.
	FaultFragment
	// FaultServerPing sends RFC 6455 ping frames every D (0 turns it off).
	FaultServerPing
	// FaultSilence stops one stream for D (D < 0: until a Silence with
	// D = 0) while the connection stays up; it then resumes where it was
	// (the next delta covers everything meanwhile; no gap).
	FaultSilence
	// FaultSplitTrades sends the next trade batch of a publicTrade stream
	// in two frames, the last trade of the first repeated in the second.
	FaultSplitTrades
	// FaultRefuseHandshake answers the next N WebSocket handshakes with
	// HTTP Status (429 default, or 403) and no upgrade.
	FaultRefuseHandshake
	// FaultDelayHandshake holds the next N handshakes for D before
	// upgrading.
	FaultDelayHandshake
	// FaultRejectTopic fails the next N subscriptions of Topic with
	// "error:handler not found,topic:<topic>".
	FaultRejectTopic
	// FaultSlowReader shrinks the connection's kernel send buffer to Size
	// bytes (SetWriteBuffer, default 4096), so a client that reads slowly
	// fills the queue sooner.
	FaultSlowReader
	// FaultDuplicateDelta sends the next delta of an orderbook stream
	// twice, the same u both times (a duplicate Bybit may deliver): a
	// client drops the repeat (protocol notes §6.4) and Book is unchanged.
	FaultDuplicateDelta
	// FaultMute is FaultSilence for a stream that died at the exchange:
	// while it lasts, a new subscription of it gets its ack but no first
	// message (no snapshot, no open candle) either. D as for FaultSilence.
	FaultMute
	numFaultKinds
)

var faultNames = [numFaultKinds]string{
	"drop-msgs", "drop-after", "stall", "garbage", "binary", "oversize",
	"skip-delta", "restart", "cross", "fragment", "server-ping", "silence",
	"split-trades", "refuse", "delay-handshake", "reject-topic", "slow-reader",
	"duplicate-delta", "mute",
}

func (k FaultKind) String() string {
	if k < numFaultKinds {
		return faultNames[k]
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// ParseFaultKind reads a fault name such as "skip-delta".
func ParseFaultKind(s string) (FaultKind, bool) {
	for i, n := range faultNames {
		if n == s {
			return FaultKind(i), true
		}
	}
	return 0, false
}

// Fault is one fault to inject; which fields matter depends on Kind.
type Fault struct {
	Kind     FaultKind
	Conn     string // connection faults: conn_id, "" = every open connection
	Category string // stream faults
	Topic    string // stream faults
	N        int
	D        time.Duration
	Size     int
	Status   int
	Ping     bool
}

func (f Fault) String() string {
	var b strings.Builder
	b.WriteString(f.Kind.String())
	add := func(k, v string) { b.WriteString("," + k + "=" + v) }
	if f.Conn != "" {
		add("conn", f.Conn)
	}
	if f.Category != "" {
		add("cat", f.Category)
	}
	if f.Topic != "" {
		add("topic", f.Topic)
	}
	if f.N != 0 {
		add("n", strconv.Itoa(f.N))
	}
	if f.D != 0 {
		add("d", f.D.String())
	}
	if f.Size != 0 {
		add("size", strconv.Itoa(f.Size))
	}
	if f.Status != 0 {
		add("status", strconv.Itoa(f.Status))
	}
	if f.Ping {
		add("ping", "true")
	}
	return b.String()
}

// ErrBadFault is returned (wrapped) for a fault that cannot be injected.
var ErrBadFault = errors.New("bybitsim: bad fault")

// ParseFault reads "kind[,key=value]...", keys conn, cat, topic, n, d,
// size, status, ping; e.g. "stall,d=5s", "refuse,n=3,status=403",
// "skip-delta,cat=linear,topic=orderbook.50.BTCUSDT".
func ParseFault(spec string) (Fault, error) {
	parts := strings.Split(spec, ",")
	k, ok := ParseFaultKind(parts[0])
	if !ok {
		return Fault{}, fmt.Errorf("%w: unknown kind %q in %q", ErrBadFault, parts[0], spec)
	}
	f := Fault{Kind: k}
	for _, p := range parts[1:] {
		key, v, ok := strings.Cut(p, "=")
		if !ok {
			return Fault{}, fmt.Errorf("%w: %q in %q: want key=value", ErrBadFault, p, spec)
		}
		var err error
		switch key {
		case "conn":
			f.Conn = v
		case "cat":
			f.Category = v
		case "topic":
			f.Topic = v
		case "n":
			f.N, err = strconv.Atoi(v)
		case "d":
			f.D, err = time.ParseDuration(v)
		case "size":
			f.Size, err = strconv.Atoi(v)
		case "status":
			f.Status, err = strconv.Atoi(v)
		case "ping":
			f.Ping, err = strconv.ParseBool(v)
		default:
			return Fault{}, fmt.Errorf("%w: unknown key %q in %q", ErrBadFault, key, spec)
		}
		if err != nil {
			return Fault{}, fmt.Errorf("%w: %q in %q: %v", ErrBadFault, p, spec, err)
		}
	}
	return f, nil
}

func (s *Server) countFault(k FaultKind, n int) {
	s.stats.faults.Add(int64(n))
	s.stats.faultsBy[k].Add(int64(n))
}

// Inject applies a fault and returns how many targets (connections,
// streams, handshakes) it affects.
func (s *Server) Inject(f Fault) (int, error) {
	n, err := s.inject(f)
	if err != nil {
		return 0, err
	}
	s.countFault(f.Kind, n)
	s.logf("bybitsim: fault %s on %d target(s)", f, n)
	return n, nil
}

func (s *Server) inject(f Fault) (int, error) {
	bad := func(why string) (int, error) { return 0, fmt.Errorf("%w: %s: %s", ErrBadFault, f, why) }
	switch f.Kind {
	case FaultRefuseHandshake, FaultDelayHandshake:
		if f.N <= 0 {
			f.N = 1
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if f.Kind == FaultDelayHandshake {
			if f.D <= 0 {
				return bad("want d > 0")
			}
			s.delayN, s.delayD = f.N, f.D
			return f.N, nil
		}
		switch f.Status {
		case 0:
			f.Status = http.StatusTooManyRequests
		case http.StatusTooManyRequests, http.StatusForbidden:
		default:
			return bad("status must be 429 or 403")
		}
		s.refuseN, s.refuseCode = f.N, f.Status
		return f.N, nil
	case FaultSkipDelta, FaultRestart, FaultCrossDelta, FaultSilence, FaultSplitTrades, FaultRejectTopic, FaultDuplicateDelta, FaultMute:
		return s.injectStream(f)
	case FaultDropMessages, FaultDropAfter, FaultStall, FaultGarbage, FaultBinary, FaultOversize,
		FaultFragment, FaultServerPing, FaultSlowReader:
		return s.injectConn(f)
	}
	return bad("unknown kind")
}

func (s *Server) injectStream(f Fault) (int, error) {
	bad := func(why string) (int, error) { return 0, fmt.Errorf("%w: %s: %s", ErrBadFault, f, why) }
	cat, ok := parseCategory(f.Category)
	if !ok {
		return bad("unknown category")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.lookup(cat, f.Topic)
	if e != "" {
		return bad(e)
	}
	switch f.Kind {
	case FaultSkipDelta, FaultRestart, FaultCrossDelta, FaultDuplicateDelta:
		if st.kind != kindBook {
			return bad("not an orderbook topic")
		}
		switch f.Kind {
		case FaultSkipDelta:
			st.skip = true
		case FaultRestart:
			st.restart = true
		case FaultDuplicateDelta:
			st.dup = true
		default:
			st.cross = true
		}
	case FaultSplitTrades:
		if st.kind != kindTrade {
			return bad("not a publicTrade topic")
		}
		st.split = true
	case FaultSilence, FaultMute:
		switch {
		case f.D > 0:
			st.silentUntil = time.Now().Add(f.D).UnixNano()
		case f.D < 0:
			st.silentUntil = -1
		default:
			st.silentUntil = 0
		}
		st.mute = f.Kind == FaultMute && st.silentUntil != 0
	case FaultRejectTopic:
		st.rejectN += max(f.N, 1)
	}
	return 1, nil
}

func (s *Server) injectConn(f Fault) (int, error) {
	bad := func(why string) (int, error) { return 0, fmt.Errorf("%w: %s: %s", ErrBadFault, f, why) }
	var frame []byte
	switch f.Kind {
	case FaultDropMessages:
		if f.N <= 0 {
			return bad("want n > 0")
		}
	case FaultDropAfter, FaultStall:
		if f.D <= 0 {
			return bad("want d > 0")
		}
	case FaultServerPing, FaultFragment:
		if f.D < 0 || f.Size < 0 {
			return bad("negative d or size")
		}
	case FaultGarbage:
		frame = appendFrame(nil, ws.OpText, []byte(`{"topic":"orderbook.50.`+"\u2603"+` not json at all`), 0, false)
	case FaultBinary:
		frame = appendFrame(nil, ws.OpBinary, []byte{0x00, 0xff, 0x1f, 0x8b, 0x08, 0x00, 'b', 'y', 'b', 'i', 't'}, 0, false)
	case FaultOversize:
		if f.Size == 0 {
			f.Size = 1 << 20
		}
		if f.Size < 0 || f.Size > 64<<20 {
			return bad("want 0 < size <= 64 MiB")
		}
		frame = appendFrame(nil, ws.OpText, oversizePayload(f.Size), 0, false)
	case FaultSlowReader:
		if f.Size == 0 {
			f.Size = 4096
		}
		if f.Size < 0 {
			return bad("negative size")
		}
	}
	s.mu.Lock()
	var targets []*conn
	for _, c := range s.conns {
		if f.Conn == "" || c.id == f.Conn {
			targets = append(targets, c)
		}
	}
	s.mu.Unlock()
	if f.Conn != "" && len(targets) == 0 {
		return bad("no open connection with that conn_id")
	}
	n := 0
	for _, c := range targets {
		if s.applyConnFault(c, f, frame) {
			n++
		}
	}
	return n, nil
}

func (s *Server) applyConnFault(c *conn, f Fault, frame []byte) bool {
	switch f.Kind {
	case FaultDropMessages:
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closing {
			return false
		}
		c.dropAt = c.msgs + int64(f.N)
	case FaultDropAfter:
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closing {
			return false
		}
		if c.dropT != nil {
			c.dropT.Stop()
		}
		c.dropT = time.AfterFunc(f.D, c.abort)
	case FaultStall:
		c.stallUntil.Store(time.Now().Add(f.D).UnixNano())
		c.signal(c.wake)
	case FaultGarbage, FaultBinary, FaultOversize:
		return c.enqueueRaw(frame)
	case FaultFragment:
		c.mu.Lock()
		c.fragSize, c.fragPing = f.Size, f.Ping
		c.mu.Unlock()
	case FaultServerPing:
		c.pingEvery.Store(int64(f.D))
		c.signal(c.wake)
	case FaultSlowReader:
		tc, ok := c.nc.(*net.TCPConn)
		if !ok || tc.SetWriteBuffer(f.Size) != nil {
			return false
		}
	}
	return true
}

// oversizePayload is valid JSON of exactly n bytes (n >= 16), a plausible
// topic message padded out; shorter n gives padding only.
func oversizePayload(n int) []byte {
	const head, tail = `{"topic":"oversize","pad":"`, `"}`
	p := make([]byte, n)
	for i := range p {
		p[i] = 'x'
	}
	if n >= len(head)+len(tail) {
		copy(p, head)
		copy(p[n-len(tail):], tail)
	}
	return p
}

// ---- convenience wrappers, one per fault

// DropAfterMessages: see FaultDropMessages.
func (s *Server) DropAfterMessages(connID string, n int) (int, error) {
	return s.Inject(Fault{Kind: FaultDropMessages, Conn: connID, N: n})
}

// DropAfter: see FaultDropAfter.
func (s *Server) DropAfter(connID string, d time.Duration) (int, error) {
	return s.Inject(Fault{Kind: FaultDropAfter, Conn: connID, D: d})
}

// Stall: see FaultStall.
func (s *Server) Stall(connID string, d time.Duration) (int, error) {
	return s.Inject(Fault{Kind: FaultStall, Conn: connID, D: d})
}

// SendGarbage: see FaultGarbage.
func (s *Server) SendGarbage(connID string) (int, error) {
	return s.Inject(Fault{Kind: FaultGarbage, Conn: connID})
}

// SendBinary: see FaultBinary.
func (s *Server) SendBinary(connID string) (int, error) {
	return s.Inject(Fault{Kind: FaultBinary, Conn: connID})
}

// SendOversize: see FaultOversize.
func (s *Server) SendOversize(connID string, size int) (int, error) {
	return s.Inject(Fault{Kind: FaultOversize, Conn: connID, Size: size})
}

// Fragment: see FaultFragment.
func (s *Server) Fragment(connID string, size int, pingInside bool) (int, error) {
	return s.Inject(Fault{Kind: FaultFragment, Conn: connID, Size: size, Ping: pingInside})
}

// ServerPings: see FaultServerPing.
func (s *Server) ServerPings(connID string, every time.Duration) (int, error) {
	return s.Inject(Fault{Kind: FaultServerPing, Conn: connID, D: every})
}

// SlowReader: see FaultSlowReader.
func (s *Server) SlowReader(connID string, sendBuffer int) (int, error) {
	return s.Inject(Fault{Kind: FaultSlowReader, Conn: connID, Size: sendBuffer})
}

// SkipDelta: see FaultSkipDelta.
func (s *Server) SkipDelta(category, topic string) error {
	_, err := s.Inject(Fault{Kind: FaultSkipDelta, Category: category, Topic: topic})
	return err
}

// Restart: see FaultRestart.
func (s *Server) Restart(category, topic string) error {
	_, err := s.Inject(Fault{Kind: FaultRestart, Category: category, Topic: topic})
	return err
}

// CrossDelta: see FaultCrossDelta.
func (s *Server) CrossDelta(category, topic string) error {
	_, err := s.Inject(Fault{Kind: FaultCrossDelta, Category: category, Topic: topic})
	return err
}

// Silence: see FaultSilence.
func (s *Server) Silence(category, topic string, d time.Duration) error {
	_, err := s.Inject(Fault{Kind: FaultSilence, Category: category, Topic: topic, D: d})
	return err
}

// DuplicateDelta: see FaultDuplicateDelta.
func (s *Server) DuplicateDelta(category, topic string) error {
	_, err := s.Inject(Fault{Kind: FaultDuplicateDelta, Category: category, Topic: topic})
	return err
}

// Mute: see FaultMute.
func (s *Server) Mute(category, topic string, d time.Duration) error {
	_, err := s.Inject(Fault{Kind: FaultMute, Category: category, Topic: topic, D: d})
	return err
}

// SplitTrades: see FaultSplitTrades.
func (s *Server) SplitTrades(category, topic string) error {
	_, err := s.Inject(Fault{Kind: FaultSplitTrades, Category: category, Topic: topic})
	return err
}

// RejectTopic: see FaultRejectTopic.
func (s *Server) RejectTopic(category, topic string, n int) error {
	_, err := s.Inject(Fault{Kind: FaultRejectTopic, Category: category, Topic: topic, N: n})
	return err
}

// RefuseHandshakes: see FaultRefuseHandshake.
func (s *Server) RefuseHandshakes(n, status int) error {
	_, err := s.Inject(Fault{Kind: FaultRefuseHandshake, N: n, Status: status})
	return err
}

// DelayHandshakes: see FaultDelayHandshake.
func (s *Server) DelayHandshakes(n int, d time.Duration) error {
	_, err := s.Inject(Fault{Kind: FaultDelayHandshake, N: n, D: d})
	return err
}

// ---- random schedule

// FaultSchedule injects random faults for soak runs: on average PerSecond
// faults a second (exponential gaps), each of a kind drawn from Kinds
// (default: all) with mild random parameters, on a random open connection
// or active stream. The sequence of draws is fixed by Seed; which target
// each lands on depends on what is connected at that moment.
type FaultSchedule struct {
	Seed      uint64
	PerSecond float64
	Kinds     []FaultKind
}

// ParseFaultSchedule reads "seed:rate", e.g. "7:0.5" (seed 7, one fault
// every two seconds on average).
func ParseFaultSchedule(v string) (FaultSchedule, error) {
	a, b, ok := strings.Cut(v, ":")
	seed, err1 := strconv.ParseUint(a, 10, 64)
	rate, err2 := strconv.ParseFloat(b, 64)
	if !ok || err1 != nil || err2 != nil || !(rate > 0 && rate <= 1000) {
		return FaultSchedule{}, fmt.Errorf("%w: schedule %q: want seed:rate with 0 < rate <= 1000", ErrBadFault, v)
	}
	return FaultSchedule{Seed: seed, PerSecond: rate}, nil
}

func (s *Server) faultLoop() {
	defer s.wg.Done()
	fs := s.cfg.Faults
	rng := rand.New(rand.NewPCG(fs.Seed, fs.Seed^0xda942042e4dd58b5))
	kinds := fs.Kinds
	if len(kinds) == 0 {
		for k := range numFaultKinds {
			kinds = append(kinds, k)
		}
	}
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		gap := time.Duration(rng.ExpFloat64() / fs.PerSecond * float64(time.Second))
		t.Reset(min(gap, time.Duration(math.MaxInt64/2)))
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		f, ok := s.randomFault(rng, kinds[rng.IntN(len(kinds))])
		if !ok {
			continue
		}
		_, err := s.Inject(f)
		if err != nil {
			s.logf("bybitsim: scheduled fault %s: %v", f, err)
		}
	}
}

// randomFault draws parameters and a target for one scheduled fault.
func (s *Server) randomFault(rng *rand.Rand, k FaultKind) (Fault, bool) {
	f := Fault{Kind: k}
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond }
	s.mu.Lock()
	defer s.mu.Unlock()
	switch k {
	case FaultRefuseHandshake:
		f.N, f.Status = 1+rng.IntN(3), []int{429, 403}[rng.IntN(2)]
		return f, true
	case FaultDelayHandshake:
		f.N, f.D = 1, ms(100, 2000)
		return f, true
	case FaultSkipDelta, FaultRestart, FaultCrossDelta, FaultSilence, FaultSplitTrades, FaultRejectTopic, FaultDuplicateDelta, FaultMute:
		var cands []*stream
		for _, st := range s.active {
			want := kindBook
			switch k {
			case FaultSplitTrades:
				want = kindTrade
			case FaultSilence, FaultRejectTopic, FaultMute:
				want = st.kind
			}
			if st.kind == want {
				cands = append(cands, st)
			}
		}
		if len(cands) == 0 {
			return f, false
		}
		st := cands[rng.IntN(len(cands))]
		f.Category, f.Topic, f.N, f.D = st.cat.String(), st.topic, 1, ms(500, 5000)
		return f, true
	}
	if len(s.conns) == 0 {
		return f, false
	}
	f.Conn = s.conns[rng.IntN(len(s.conns))].id
	switch k {
	case FaultDropMessages:
		f.N = 1 + rng.IntN(5000)
	case FaultDropAfter:
		f.D = ms(10, 5000)
	case FaultStall:
		f.D = ms(100, 3000)
	case FaultOversize:
		f.Size = (256 + rng.IntN(1792)) << 10
	case FaultFragment:
		f.Size, f.Ping = 16+rng.IntN(4080), rng.IntN(2) == 0
	case FaultServerPing:
		f.D = ms(1000, 5000)
	case FaultSlowReader:
		f.Size = 4096 << rng.IntN(5)
	}
	return f, true
}
