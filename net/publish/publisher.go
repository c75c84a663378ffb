package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// Defaults of Config.
const (
	DefaultTradeMaxAge   = 24 * time.Hour
	DefaultTradeReplay   = 1 << 16
	DefaultReconnectBuf  = 64 << 20
	DefaultBackoffBase   = 250 * time.Millisecond
	DefaultBackoffCap    = 10 * time.Second
	DefaultTradeDupsSpan = 2 * time.Minute
	// replayMargin is how far before a disconnect trades are published
	// again after the reconnect: messages written to the socket just
	// before the server went away may never have reached it. The trade
	// stream drops the repeats by Nats-Msg-Id.
	replayMargin = 2 * time.Second
)

// ErrURL is returned (wrapped) for a NATS URL list that does not parse.
var ErrURL = errors.New("publish: bad NATS URL")

// ParseURLs checks a comma-separated list of NATS server URLs
// (nats://host:port, tls://, ws://, wss://; a bare host:port means
// nats://) and returns it normalised.
func ParseURLs(s string) (string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "://") {
			p = "nats://" + p
		}
		u, err := url.Parse(p)
		if err != nil {
			return "", fmt.Errorf("%w %q: %v", ErrURL, p, err)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return "", fmt.Errorf("%w %q: scheme %q (want nats, tls, ws or wss)", ErrURL, p, u.Scheme)
		}
		if u.Hostname() == "" {
			return "", fmt.Errorf("%w %q: no host", ErrURL, p)
		}
		if port := u.Port(); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
				return "", fmt.Errorf("%w %q: bad port", ErrURL, p)
			}
		}
		out = append(out, u.String())
	}
	if len(out) == 0 {
		return "", fmt.Errorf("%w: empty", ErrURL)
	}
	return strings.Join(out, ","), nil
}

// Config configures a Publisher.
type Config struct {
	// URL is a comma-separated list of NATS servers (see ParseURLs).
	URL string
	// Options are extra nats.go options: credentials, TLS (nats.UserCredentials,
	// nats.RootCAs), a name. They are applied after the publisher's own.
	Options []nats.Option
	// Category is the subjects' second token (linear, spot, …).
	Category string
	// Rings are the processors' hand-off rings, one worker each; the
	// publisher is their only consumer.
	Rings []*ring.SPSC[Msg]
	// Symbol returns a symbol id's name and fixed-point scales. It is
	// called from the worker goroutines and must be safe for that.
	Symbol func(id uint32) (name string, priceScale, sizeScale int)
	// Wall converts a Msg's monotonic RecvNs to Unix ns; nil leaves the
	// wire's recv out.
	Wall func(mono int64) int64
	// WantSnapshot is called (on a NATS goroutine) when a consumer asks for
	// a fresh snapshot of one book stream; WantAll after every
	// (re)connect and whenever publishing failed, so every book gets a
	// snapshot refresh. Both must only set flags.
	WantSnapshot func(symbol string, depth int)
	WantAll      func()

	TradeMaxAge   time.Duration // trade stream retention; 0: DefaultTradeMaxAge
	TradeMaxBytes int64         // trade stream size cap; 0: none
	// TradeReplay is how many recent trades each worker keeps to publish
	// again after a reconnect (repeats are dropped by the trade stream).
	TradeReplay  int
	ReconnectBuf int // bytes nats.go buffers while disconnected; 0: DefaultReconnectBuf
	BackoffBase  time.Duration
	BackoffCap   time.Duration

	Metrics *metrics.Set
	Logger  *slog.Logger
}

// Publisher drains the processors' rings and publishes every update to
// NATS. It never makes a processor wait: when NATS is slow or away, the
// rings fill and the processors count drops (their side), or nats.go's
// reconnect buffer overflows and the worker counts drops (this side); in
// both cases the affected books get a snapshot refresh when publishing
// works again.
type Publisher struct {
	cfg     Config
	nc      *nats.Conn
	js      jetstream.JetStream
	workers []*worker
	log     *slog.Logger

	published  *metrics.Counter
	dropped    *metrics.Counter
	replayed   *metrics.Counter
	reconnects *metrics.Counter
	latency    *metrics.Histogram
	connected  atomic.Bool

	gen       atomic.Uint64 // bumped on every reconnect: workers replay trades
	discNs    atomic.Int64  // Nanotime of the last disconnect
	wantAll   atomic.Bool   // a publish failed: refresh every book once connected
	events    chan struct{}
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New checks cfg and builds a publisher; Start connects.
func New(cfg Config) (*Publisher, error) {
	u, err := ParseURLs(cfg.URL)
	if err != nil {
		return nil, err
	}
	cfg.URL = u
	if cfg.Symbol == nil || len(cfg.Rings) == 0 || cfg.Category == "" {
		return nil, errors.New("publish: Config needs Category, Rings and Symbol")
	}
	if cfg.TradeMaxAge == 0 {
		cfg.TradeMaxAge = DefaultTradeMaxAge
	}
	if cfg.TradeReplay == 0 {
		cfg.TradeReplay = DefaultTradeReplay
	}
	if cfg.ReconnectBuf == 0 {
		cfg.ReconnectBuf = DefaultReconnectBuf
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = DefaultBackoffBase
	}
	if cfg.BackoffCap == 0 {
		cfg.BackoffCap = DefaultBackoffCap
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewSet()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WantAll == nil {
		cfg.WantAll = func() {}
	}
	p := &Publisher{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "publish"),
		events: make(chan struct{}, 1),
		stop:   make(chan struct{}),
	}
	s := cfg.Metrics
	p.published = s.NewCounter(`ringfeed_publish_messages_total`)
	p.dropped = s.NewCounter(`ringfeed_publish_dropped_total{side="publisher"}`)
	p.replayed = s.NewCounter(`ringfeed_publish_trades_replayed_total`)
	p.reconnects = s.NewCounter(`ringfeed_nats_reconnects_total`)
	p.latency = s.NewHistogram(`ringfeed_publish_latency_seconds`)
	s.NewGauge(`ringfeed_nats_connected`, func() float64 {
		if p.connected.Load() {
			return 1
		}
		return 0
	})
	for _, r := range cfg.Rings {
		p.workers = append(p.workers, &worker{p: p, r: r, subj: map[subjKey]string{},
			hist: make([]histEntry, cfg.TradeReplay)})
	}
	return p, nil
}

// backoff is the reconnect delay: exponential from BackoffBase to
// BackoffCap with full jitter.
func (p *Publisher) backoff(attempts int) time.Duration {
	d := p.cfg.BackoffCap
	if attempts < 30 {
		d = min(p.cfg.BackoffBase<<attempts, p.cfg.BackoffCap)
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// Start connects to NATS and starts the workers. An unreachable server is
// not an error: nats.go keeps retrying with backoff in the background, the
// rings drain into its reconnect buffer meanwhile, and the first connect
// brings the streams and a snapshot of every book.
func (p *Publisher) Start() error {
	var failing atomic.Int64
	opts := []nats.Option{
		nats.Name("ringfeed"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(p.cfg.ReconnectBuf),
		nats.CustomReconnectDelay(p.backoff),
		nats.ConnectHandler(func(*nats.Conn) { p.up(false) }),
		nats.ReconnectHandler(func(*nats.Conn) { p.up(true) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			p.connected.Store(false)
			p.discNs.Store(wsconn.Nanotime())
			if err != nil { // nil: our own Close at shutdown
				p.log.Warn("NATS disconnected; publishing into the reconnect buffer", "err", err)
			}
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			// One line per 20 failed attempts: the backoff caps the rate.
			if failing.Add(1)%20 == 1 {
				p.log.Warn("NATS connect failed; retrying with backoff", "url", p.cfg.URL, "err", err, "attempts", failing.Load())
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			p.log.Warn("NATS error", "err", err)
		}),
	}
	nc, err := nats.Connect(p.cfg.URL, append(opts, p.cfg.Options...)...)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	p.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("publish: %w", err)
	}
	p.js = js
	if nc.IsConnected() {
		p.up(false)
	} else {
		p.discNs.Store(wsconn.Nanotime())
		p.log.Warn("NATS unreachable at start; the engine runs on and publishing retries with backoff", "url", p.cfg.URL)
	}
	if p.cfg.WantSnapshot != nil {
		_, err = nc.Subscribe(Prefix+"."+p.cfg.Category+".snapreq.>", func(m *nats.Msg) {
			tok := strings.Split(m.Subject, ".")
			if len(tok) != 5 {
				return
			}
			if d, err := strconv.Atoi(tok[3]); err == nil {
				p.cfg.WantSnapshot(tok[4], d)
			}
		})
		if err != nil {
			nc.Close()
			return fmt.Errorf("publish: %w", err)
		}
	}
	p.wg.Add(1 + len(p.workers))
	go p.control()
	for _, w := range p.workers {
		go w.run()
	}
	return nil
}

// up runs on a nats.go callback goroutine after a (re)connect.
func (p *Publisher) up(reconnect bool) {
	p.connected.Store(true)
	if reconnect {
		p.reconnects.Inc()
		p.log.Info("NATS reconnected", "url", p.nc.ConnectedUrlRedacted())
	}
	select {
	case p.events <- struct{}{}:
	default:
	}
}

// control creates the streams and asks for a snapshot of every book after
// each (re)connect, and again whenever a worker saw a publish fail.
func (p *Publisher) control() {
	defer p.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	streamsFailing := false
	for {
		select {
		case <-p.stop:
			return
		case <-p.events:
			if err := p.ensureStreams(); err != nil {
				// Retried every second; said once per failing streak
				// (a server without JetStream fails until it has it).
				if !streamsFailing {
					p.log.Warn("JetStream streams not ready; core subjects are published, snapshots and trades are not kept; retrying", "err", err)
				}
				streamsFailing = true
				p.wantAll.Store(true)
				continue
			}
			if streamsFailing {
				p.log.Info("JetStream streams ready")
			}
			streamsFailing = false
			p.wantAll.Store(false)
			// Trades published before the trade stream existed, or lost
			// around the disconnect, are sent again now that it does.
			p.gen.Add(1)
			for _, w := range p.workers {
				w.r.Wake()
			}
			p.cfg.WantAll()
		case <-t.C:
			if p.wantAll.Load() && p.connected.Load() {
				select {
				case p.events <- struct{}{}:
				default:
				}
			}
		}
	}
}

// ensureStreams creates or updates LastStream and TradeStream.
func (p *Publisher) ensureStreams() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cat := Prefix + ".*."
	_, err := p.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              LastStream,
		Description:       "ringfeed: newest book snapshot, kline and ticker per subject",
		Subjects:          []string{cat + "booksnap.>", cat + "kline.>", cat + "ticker.>"},
		MaxMsgsPerSubject: 1,
		Storage:           jetstream.MemoryStorage,
		Discard:           jetstream.DiscardOld,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", LastStream, err)
	}
	maxBytes := p.cfg.TradeMaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	_, err = p.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        TradeStream,
		Description: "ringfeed: every trade, for consumers catching up",
		Subjects:    []string{cat + "trade.>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      p.cfg.TradeMaxAge,
		MaxBytes:    maxBytes,
		Duplicates:  DefaultTradeDupsSpan,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", TradeStream, err)
	}
	return nil
}

// Conn returns the NATS connection (for tests and tools).
func (p *Publisher) Conn() *nats.Conn { return p.nc }

// Connected reports whether the NATS connection is up.
func (p *Publisher) Connected() bool { return p.connected.Load() }

// Stats are the publisher's counters.
type Stats struct {
	Published, Dropped, Reconnects, Replayed uint64
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() Stats {
	return Stats{Published: p.published.Get(), Dropped: p.dropped.Get(),
		Reconnects: p.reconnects.Get(), Replayed: p.replayed.Get()}
}

// Close waits for the workers to drain their rings (the processors close
// them when they stop), flushes what NATS buffered for up to timeout, and
// closes the connection.
func (p *Publisher) Close(timeout time.Duration) {
	p.closeOnce.Do(func() {
		for _, w := range p.workers {
			w.r.Close()
		}
		close(p.stop)
		p.wg.Wait()
		if p.nc != nil {
			if p.nc.IsConnected() {
				_ = p.nc.FlushTimeout(timeout)
			}
			p.nc.Close()
		}
	})
}

type subjKey struct {
	op    Op
	sym   uint32
	depth uint16
	iv    parse.Interval
}

type histEntry struct {
	at   int64 // Nanotime published
	subj string
	id   string
	data []byte
}

// worker drains one processor ring.
type worker struct {
	p    *Publisher
	r    *ring.SPSC[Msg]
	enc  encoder
	subj map[subjKey]string

	// A multi-slot book message being put together.
	asm        bool
	asmOp      Op
	bids, asks []parse.Level

	// Recent trades, published again after a reconnect.
	hist    []histEntry
	histN   uint64 // trades recorded so far
	gen     uint64
	hdr     nats.Header
	tradeMs nats.Msg
}

// How an idle worker waits. A consumer parked on its ring costs the
// producer (a processor) a channel send, often a futex wake-up, for the
// message that finds it asleep; so while slots came recently the worker
// polls, sleeping idleMin doubling to idleMax, and the processor's
// hand-off stays two atomic operations. Only after parkAfter without a
// slot does it park on the ring, and the next Publish wakes it: at a busy
// feed's rates that never happens, and at a quiet one the wake costs the
// processor a few microseconds it has to spare, while a consumer does not
// wait out a sleep (time.Sleep of 500 µs took over a millisecond on the
// loaded 2-core box; BenchmarkFrameToReplica).
const (
	idleMin   = 20 * time.Microsecond
	idleMax   = 200 * time.Microsecond
	parkAfter = time.Millisecond
)

func (w *worker) run() {
	defer w.p.wg.Done()
	idle, idleFor := time.Duration(0), time.Duration(0)
	for {
		if g := w.p.gen.Load(); g != w.gen {
			w.gen = g
			w.replay()
		}
		b := w.r.Peek()
		if len(b) == 0 {
			if w.r.Closed() {
				if b = w.r.Peek(); len(b) == 0 {
					return
				}
			} else if idleFor < parkAfter {
				switch {
				case idle == 0:
					idle = idleMin
				case idle < idleMax:
					idle = min(2*idle, idleMax)
				}
				time.Sleep(idle)
				idleFor += idle
				continue
			} else {
				var err error
				if b, err = w.r.PeekWait(); err != nil {
					continue // woken (a reconnect) or closed: look again
				}
			}
		}
		idle, idleFor = 0, 0
		for i := range b {
			w.handle(&b[i])
		}
		w.r.Release(len(b))
	}
}

func (w *worker) subject(m *Msg, op Op, name string) string {
	k := subjKey{op: op, sym: m.Sym}
	switch op {
	case OpDelta, OpSnapshot, OpStale:
		k.depth = m.Depth
	case OpKline:
		k.iv = m.Interval
	}
	if s, ok := w.subj[k]; ok {
		return s
	}
	cat := w.p.cfg.Category
	var s string
	switch op {
	case OpDelta:
		s = BookSubject(cat, name, int(m.Depth))
	case OpSnapshot:
		s = SnapshotSubject(cat, name, int(m.Depth))
	case OpTrade:
		s = TradeSubject(cat, name)
	case OpKline:
		s = KlineSubject(cat, name, m.Interval.String())
	case OpTicker:
		s = TickerSubject(cat, name)
	}
	w.subj[k] = s
	return s
}

func (w *worker) wall(m *Msg) int64 {
	if m.RecvNs == 0 || w.p.cfg.Wall == nil {
		return 0
	}
	return w.p.cfg.Wall(m.RecvNs)
}

// handle publishes one slot (or, for a multi-slot message, collects it).
func (w *worker) handle(m *Msg) {
	name, ps, ss := w.p.cfg.Symbol(m.Sym)
	switch m.Op {
	case OpDelta, OpSnapshot:
		if m.Flags&First != 0 || !w.asm || w.asmOp != m.Op {
			w.asm, w.asmOp = true, m.Op
			w.bids, w.asks = w.bids[:0], w.asks[:0]
		}
		w.bids = append(w.bids, m.Bids()...)
		w.asks = append(w.asks, m.Asks()...)
		if m.Flags&Last == 0 {
			return
		}
		w.asm = false
		typ := TypeDelta
		if m.Op == OpSnapshot {
			typ = TypeSnapshot
		}
		data := w.enc.book(typ, name, int(m.Depth), m, w.wall(m), ps, ss, w.bids, w.asks)
		w.pub(w.subject(m, OpDelta, name), data, m)
		if m.Op == OpSnapshot {
			w.pub(w.subject(m, OpSnapshot, name), data, nil)
		}
	case OpStale:
		data := w.enc.stale(name, int(m.Depth), m, w.wall(m), book.Reason(m.Reason).String())
		w.pub(w.subject(m, OpDelta, name), data, m)
		w.pub(w.subject(m, OpSnapshot, name), data, nil)
	case OpTrade:
		data := w.enc.trade(name, m, w.wall(m), ps, ss)
		w.pubTrade(w.subject(m, OpTrade, name), name, data, m)
	case OpKline:
		w.pub(w.subject(m, OpKline, name), w.enc.kline(name, m, w.wall(m), ps, ss), m)
	case OpTicker:
		w.pub(w.subject(m, OpTicker, name), w.enc.ticker(name, m, w.wall(m), ss), m)
	}
}

// pub publishes data (copied by nats.go); m, when not nil, is the message
// whose latency and count it records.
func (w *worker) pub(subj string, data []byte, m *Msg) {
	if err := w.p.nc.Publish(subj, data); err != nil {
		w.failed(err)
		return
	}
	w.done(m)
}

func (w *worker) done(m *Msg) {
	if m == nil {
		return
	}
	w.p.published.Inc()
	if m.RecvNs != 0 {
		w.p.latency.Update(float64(wsconn.Nanotime()-m.RecvNs) / 1e9)
	}
}

// failed counts a message nats.go refused (reconnect buffer full, or the
// connection closed) and asks for a refresh of every book once NATS works
// again: the consumers see the gap in N and resync from it.
func (w *worker) failed(err error) {
	w.p.dropped.Inc()
	if !w.p.wantAll.Swap(true) {
		w.p.log.Warn("NATS publish failed; dropping until it recovers", "err", err)
	}
}

// pubTrade publishes a trade with a Nats-Msg-Id, so the trade stream keeps
// each trade once however often it is sent, and records it for replay.
func (w *worker) pubTrade(subj, name string, data []byte, m *Msg) {
	id := tradeID(name, m)
	e := &w.hist[w.histN%uint64(len(w.hist))]
	w.histN++
	e.at, e.subj, e.id = wsconn.Nanotime(), subj, id
	e.data = append(e.data[:0], data...)
	if err := w.pubID(subj, id, e.data); err != nil {
		w.failed(err)
		return
	}
	w.done(m)
}

func (w *worker) pubID(subj, id string, data []byte) error {
	if w.hdr == nil {
		w.hdr = nats.Header{}
	}
	w.hdr.Set(jetstream.MsgIDHeader, id)
	w.tradeMs = nats.Msg{Subject: subj, Data: data, Header: w.hdr}
	return w.p.nc.PublishMsg(&w.tradeMs)
}

func tradeID(name string, m *Msg) string {
	if id := m.Trade.ID(); len(id) > 0 {
		return name + ":" + string(id)
	}
	return name + ":n" + strconv.FormatUint(m.N, 10)
}

// replay publishes again the trades recorded since shortly before the last
// disconnect.
func (w *worker) replay() {
	from := w.p.discNs.Load() - int64(replayMargin)
	n := min(w.histN, uint64(len(w.hist)))
	start := w.histN - n
	for i := start; i < w.histN; i++ {
		e := &w.hist[i%uint64(len(w.hist))]
		if e.at < from {
			continue
		}
		if err := w.pubID(e.subj, e.id, e.data); err != nil {
			w.failed(err)
			return
		}
		w.p.replayed.Inc()
	}
}
