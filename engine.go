package ringfeed

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/internal/ratelog"
	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/net/publish"
	"github.com/ringfeed/ringfeed/net/rest"
	"github.com/ringfeed/ringfeed/net/session"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
	"github.com/ringfeed/ringfeed/tape"
)

// Engine is a running market-data engine: connections (each with its
// reader goroutine and ring), processors, and the admin server. Create it
// with New, register hooks, then call Run once.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	syms  *parse.Symbols
	conns []*connection
	procs []*processor
	bySym []*symState // every symbol, indexed by id (read-only after New)
	hooks hookSet
	// cats are the per-category engines when this one serves several
	// categories (see multi.go); nil otherwise.
	cats []*Engine

	set     *metrics.Set
	m       *engineMetrics
	lat     *latAggregate
	delay   *latAggregate
	stages  *stageAggregates
	clock   wallClock
	probe   *session.Probe
	limiter *session.Limiter

	// synced and syncedF copy figures kept elsewhere into counters
	// before a scrape (see engineMetrics).
	synced  []syncedCounter
	syncedF []func()

	refill *refiller // REST work off the processors; nil in replay
	anom   *anomalyMetrics
	// unfitFields counts ticker fields left absent because their value
	// did not fit the field's scale.
	unfitFields *metrics.Counter
	rec         *recorder
	// rootCAs are Config.CAFile's certificates, read once in New, for
	// every TLS client (sessions, probe, REST).
	rootCAs []*x509.Certificate

	rep       reporter
	stateMu   sync.RWMutex // guards running; see query
	running   bool
	started   time.Time
	logLimit  rateLimiter
	runOnce   sync.Once
	adminAddr string
	adminLn   net.Listener // bound by listenAdmin, served by startAdmin
	admin     *http.Server
	ready     chan struct{}
	readyOnce sync.Once
	pub       *publish.Publisher // NATS fan-out; nil when not publishing
	// runStarted is set when Run starts: hooks register only before.
	runStarted atomic.Bool
}

// connection is one WebSocket connection: its topics, its ring, its
// session, and the symbols it carries.
type connection struct {
	idx    int
	topics []string
	syms   []*symState
	ring   *ring.SPSC[parse.Event]
	sink   *ringSink
	sess   *session.Session
	proc   *processor
	// labels name the connection in metrics: conn="0",category="linear".
	labels   string
	ringHigh atomic.Int64 // highest occupancy the reporter sampled
	// mid is set while the processor has applied part of a message from
	// this ring and not its last slot; processor goroutine only.
	mid bool
	// resets counts the reset markers its processor applied; the first
	// is the first connection, which lost nothing.
	resets int
	// feed replaces the session in replay mode: it parses frames into the
	// ring and returns when they are all fed.
	feed func(ctx context.Context) error
	// raw parses and applies the frames a replay reader hands over
	// unparsed (kindRaw); processor goroutine only, nil when live.
	raw *rawFrames
}

// New validates cfg and builds the engine: symbol table, shards,
// preallocated rings, books and windows. Nothing connects until Run.
func New(cfg Config) (*Engine, error) {
	if len(cfg.Streams) > 0 {
		return newMulti(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:   cfg,
		log:   cfg.Logger,
		syms:  parse.NewSymbols(),
		set:   metrics.NewSet(),
		clock: newWallClock(),
		ready: make(chan struct{}),
	}
	e.m = newEngineMetrics(e.set)
	e.anom = newAnomalyMetrics(e.set)
	e.unfitFields = e.set.NewCounter(`ringfeed_ticker_fields_unrepresentable_total`)
	e.logLimit.every = 5 * time.Second

	for _, s := range cfg.Symbols {
		if _, err := e.syms.Add(s, defaultPriceScale, defaultSizeScale); err != nil {
			return nil, cfgErr("Symbols", "%v", err)
		}
	}
	e.bySym = make([]*symState, e.syms.Len())

	if err := e.shard(); err != nil {
		return nil, err
	}
	if cfg.Record != "" {
		rec, err := newRecorder(&e.cfg, len(e.conns))
		if err != nil {
			return nil, err
		}
		e.rec = rec
	}
	e.limiter = cfg.limiter
	if e.limiter == nil {
		e.limiter = session.NewWindowLimiter(cfg.ConnectLimit, session.ConnectWindow)
	}
	roots, err := loadCAFile(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	e.rootCAs = roots
	// One REST client for the probe, instruments-info and every refill:
	// one set of timeouts, one retry policy, one request budget.
	rc, err := rest.New(rest.Config{
		URL:            cfg.RESTURL,
		ConnectTimeout: or(cfg.Probe.ConnectTimeout, session.DefaultProbeConnectTimeout),
		Timeout:        cfg.restTimeout(),
		RootCAs:        roots,
		Metrics:        e.set,
	})
	if err != nil {
		return nil, cfgErr("RESTURL", "%v", err)
	}
	if !cfg.replay {
		e.refill = newRefiller(e, rc)
	}
	pc := cfg.Probe
	pc.URL, pc.RootCAs, pc.Metrics, pc.Logger, pc.Client = cfg.RESTURL, roots, e.set, e.log, rc
	probe, err := session.NewProbe(pc)
	if err != nil {
		return nil, cfgErr("Probe", "%v", err)
	}
	e.probe = probe
	for _, c := range e.conns {
		if cfg.replay {
			break
		}
		// The session settings come whole from cfg.Session; only what
		// differs per connection is set here.
		sc := cfg.Session
		sc.Category = string(cfg.Category)
		sc.URL = cfg.WSURL
		sc.Topics = c.topics
		sc.Symbols = e.syms
		sc.Sink = c.sink
		sc.Dial.RootCAs = append(slices.Clip(sc.Dial.RootCAs), roots...)
		sc.Limiter = e.limiter
		sc.Probe = e.probe
		sc.Metrics = e.set
		sc.Labels = c.labels
		sc.Logger = e.log.With("conn", c.idx)
		sc.Tap = e.tap(c.idx)
		s, err := session.New(sc)
		if err != nil {
			return nil, cfgErr("Session", "connection %d: %v", c.idx, err)
		}
		c.sess = s
	}
	recs := make([]*latRecorder, len(e.procs))
	drecs := make([]*latRecorder, len(e.procs))
	for i, p := range e.procs {
		recs[i], drecs[i] = p.lat, p.delay
	}
	e.lat = newLatAggregate(recs)
	e.delay = newLatAggregate(drecs)
	e.stages = newStageAggregates(e.procs)
	e.registerGauges()
	return e, nil
}

// shard spreads symbols over connections (SymbolsPerConn each, option
// symbols grouped by base coin so one publicTrade.{BASE} topic serves them)
// and connections over processors (round robin, so each processor is the
// single writer of every symbol on its rings).
func (e *Engine) shard() error {
	cfg := &e.cfg
	groups := e.groupSymbols()
	np := min(cfg.Processors, len(groups))
	cfg.Processors = np
	for i := range np {
		p := &processor{
			id:      i,
			e:       e,
			syms:    e.bySym,
			lat:     newLatRecorder(),
			delay:   newLatRecorder(),
			stage:   newStageRecorders(),
			mode:    cfg.Wait,
			bell:    ring.NewBell(),
			queries: make(chan *query, 64),
		}
		e.procs = append(e.procs, p)
	}
	for gi, g := range groups {
		p := e.procs[gi%np]
		c := &connection{idx: gi, proc: p}
		c.labels = fmt.Sprintf(`conn="%d",category=%q`, gi, cfg.Category)
		// Every ring of a processor rings its bell; the reader parks on a
		// full ring for at most RingFullWait (ringSink).
		c.ring = ring.NewWithOptions[parse.Event](cfg.RingSize, ring.Options{Bell: p.bell})
		c.sink = newRingSink(c.ring, cfg.RingFullWait, e.m.forConn(c.labels))
		// A spinning processor is waiting on its ring: publishing each
		// message as it is committed costs the reader one store (no
		// wake-up to pay) and saves the message the parse of the ones
		// after it (BenchmarkLatency, bench/RESULTS.md "Publish per message").
		c.sink.eager = cfg.Wait == ring.Spin
		seenTopic := map[string]bool{}
		for _, name := range g {
			id, _ := e.syms.Lookup([]byte(name))
			st := &symState{name: name, id: id, conn: c}
			for _, t := range cfg.Topics {
				kind, arg, _ := strings.Cut(t, ".")
				topic := t + "." + name
				switch kind {
				case "orderbook":
					d, _ := strconv.Atoi(arg)
					st.books = append(st.books, &bookState{
						depth: uint16(d),
						topic: topic,
						b:     book.New(book.Config{Depth: d, Policy: cfg.GapPolicy}),
					})
				case "kline":
					piv, err := parse.ParseInterval([]byte(arg))
					if err != nil {
						return cfgErr("Topics", "%v", err)
					}
					st.klines = append(st.klines, &klineState{
						code: arg, iv: piv, topic: topic,
						w:        kline.NewWindow(cfg.KlineWindow, piv.Kline()),
						needFill: !cfg.NoKlineHistory,
						full:     !cfg.NoKlineHistory,
					})
				case "tickers":
					st.ticker = &tickerState{topic: topic, stale: true}
				case "publicTrade":
					if cfg.Category == Option {
						topic = "publicTrade." + baseCoin(name)
					}
					st.tape = tape.New(cfg.TradeTape)
					st.trade = topic
				}
				if !seenTopic[topic] {
					seenTopic[topic] = true
					c.topics = append(c.topics, topic)
				}
			}
			c.syms = append(c.syms, st)
			e.bySym[id] = st
		}
		p.conns = append(p.conns, c)
		e.conns = append(e.conns, c)
	}
	// Each processor only sees its own symbols.
	for _, p := range e.procs {
		own := make([]*symState, len(e.bySym))
		for _, c := range p.conns {
			for _, st := range c.syms {
				own[st.id] = st
			}
		}
		p.syms = own
	}
	return nil
}

// groupSymbols splits the symbol list into connection groups.
func (e *Engine) groupSymbols() [][]string {
	per := e.cfg.SymbolsPerConn
	var groups [][]string
	if e.cfg.Category == Option {
		byBase := map[string][]string{}
		var order []string
		for _, s := range e.cfg.Symbols {
			b := baseCoin(s)
			if _, ok := byBase[b]; !ok {
				order = append(order, b)
			}
			byBase[b] = append(byBase[b], s)
		}
		for _, b := range order {
			syms := byBase[b]
			for len(syms) > 0 {
				n := min(per, len(syms))
				groups = append(groups, syms[:n])
				syms = syms[n:]
			}
		}
		return groups
	}
	syms := e.cfg.Symbols
	for len(syms) > 0 {
		n := min(per, len(syms))
		groups = append(groups, syms[:n])
		syms = syms[n:]
	}
	return groups
}

func baseCoin(option string) string {
	b, _, _ := strings.Cut(option, "-")
	return b
}

func (e *Engine) cpuFor(proc int) (int, bool) {
	if len(e.cfg.CPUs) > 0 {
		return e.cfg.CPUs[proc%len(e.cfg.CPUs)], true
	}
	n := runtime.NumCPU()
	if n < 2 {
		return 0, false
	}
	// Leave CPU 0 to the OS and the readers.
	return 1 + proc%(n-1), true
}

// Ready is closed once Run has started every goroutine and the admin
// server (if any) listens, or once Run has returned, whichever comes
// first: a Run that fails at start (the admin port taken, say) closes it
// too, so a caller waiting on it does not hang; Run's error tells the two
// apart.
func (e *Engine) Ready() <-chan struct{} { return e.ready }

func (e *Engine) markReady() { e.readyOnce.Do(func() { close(e.ready) }) }

// AdminAddr returns the admin server's bound address once Ready.
func (e *Engine) AdminAddr() string { return e.adminAddr }

// ErrRunning is returned by a second call to Run.
var ErrRunning = errors.New("ringfeed: Run called twice")

// Run connects, streams and serves until ctx ends, then shuts down
// cleanly: sessions send close frames and stop, readers publish what they
// parsed and close their rings, processors drain them, the recorder is
// flushed and the admin server stopped. It returns nil on a clean stop.
func (e *Engine) Run(ctx context.Context) error {
	first := false
	e.runOnce.Do(func() { first = true })
	if !first {
		return ErrRunning
	}
	e.runStarted.Store(true)
	if len(e.cats) > 0 {
		return e.runMulti(ctx)
	}
	defer e.markReady()
	if err := e.prepare(ctx); err != nil {
		return err
	}
	procs := e.startProcessors()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	aux := e.startAux(runCtx)
	errs := e.runReaders(runCtx)
	procs.Wait()
	e.stopPublisher()
	e.stop()
	e.probe.Close()
	cancel()
	aux.Wait()
	e.finish()
	for _, err := range errs {
		// A session returns ctx's error when ctx ends: that is the
		// clean stop Run promises, whether ctx was cancelled or timed out.
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

// prepare binds the admin port, loads instruments (live only), starts
// the admin server and the recorder.
func (e *Engine) prepare(ctx context.Context) error {
	if err := e.listenAdmin(); err != nil {
		return err
	}
	if !e.cfg.replay {
		if err := e.loadInstruments(ctx); err != nil {
			if !errors.Is(err, errREST) {
				e.stopAdmin()
				return err
			}
			e.log.Warn("instruments-info unavailable; default scales, symbols not checked", "err", err)
		}
	}
	e.started = time.Now()
	e.rep.lastAt = e.started
	if err := e.startAdmin(); err != nil {
		return err
	}
	if e.rec != nil {
		e.rec.start()
	}
	if err := e.startPublisher(); err != nil {
		e.stopAdmin()
		return err
	}
	return nil
}

// startProcessors hands the state over to the processors and starts them.
func (e *Engine) startProcessors() *sync.WaitGroup {
	// From here on state belongs to the processors: queries go through
	// them (query waits for inline readers to finish first).
	e.stateMu.Lock()
	e.running = true
	e.stateMu.Unlock()
	var procs sync.WaitGroup
	// Readers apply for their parked processor (processor.lend) unless
	// the processor's work must stay on its goroutine: hooks run there,
	// a pinned processor is pinned to do it, and a spinning one never
	// parks. Replay has readers of its own.
	lends := e.cfg.Wait == ring.Park && !e.cfg.NoLend && !e.cfg.Pin && !e.cfg.replay && !e.hooks.any()
	for _, p := range e.procs {
		p.prepare(lends)
		procs.Go(p.run)
	}
	return &procs
}

// startAux starts the goroutines beside the data path: the reporter (which
// also ticks the processors' housekeeping), the clock probe and the kline
// history loader. They stop when ctx ends.
func (e *Engine) startAux(ctx context.Context) *sync.WaitGroup {
	var aux sync.WaitGroup
	aux.Go(func() { e.report(ctx) })
	if !e.cfg.replay {
		// The WS path never waits for REST: the probe only estimates the
		// clock offset and is a diagnostic.
		aux.Go(func() { _ = e.probe.RunOnce(ctx) })
	}
	if e.refill != nil {
		aux.Go(func() { e.refill.run(ctx) })
	}
	return &aux
}

// runReaders runs every connection's reader (its session, or its replay
// feed) until ctx ends or the feed is done, closing each ring behind it,
// and returns their errors.
func (e *Engine) runReaders(ctx context.Context) []error {
	var readers sync.WaitGroup
	errs := make([]error, len(e.conns))
	for i, c := range e.conns {
		readers.Go(func() {
			if c.feed != nil {
				errs[i] = c.feed(ctx)
			} else {
				errs[i] = c.sess.Run(ctx)
			}
			// The session's goroutine was this connection's reader:
			// nothing writes the ring any more.
			c.sink.Flush()
			c.ring.Close()
		})
	}
	e.markReady()
	readers.Wait()
	return errs
}

// finish collects the last latency figures, flushes the recorder and stops
// the admin server once everything else has stopped.
func (e *Engine) finish() {
	e.lat.finish()
	e.delay.finish()
	e.stages.finish()
	if e.rec != nil {
		if err := e.rec.close(); err != nil {
			e.log.Error("capture flush failed", "err", err)
		}
	}
	e.stopAdmin()
}

// query runs fn on the processor that owns the state fn reads, between
// batches, and waits for it until ctx ends. It is how the admin API reads
// state without racing the single writer. When no processor runs (before
// Run, after it returned) fn runs inline; stateMu makes the switch safe.
func (e *Engine) query(ctx context.Context, p *processor, fn func()) error {
	e.stateMu.RLock()
	if !e.running {
		defer e.stateMu.RUnlock()
		fn()
		return nil
	}
	q := &query{fn: fn, done: make(chan struct{})}
	p.nq.Add(1)
	select {
	case p.queries <- q:
	case <-ctx.Done():
		p.nq.Add(-1)
		e.stateMu.RUnlock()
		return ctx.Err()
	}
	e.stateMu.RUnlock()
	p.bell.Ring()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		// The processor is busy (a slow hook, say): give up now. fn still
		// runs later and writes only into variables the caller no longer
		// reads once it has this error.
		return ctx.Err()
	}
}

// stop ends the running state once every processor has returned, and runs
// queries that were queued after a processor's last look.
func (e *Engine) stop() {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	e.running = false
	for _, p := range e.procs {
		p.serve()
	}
}

// rateLimiter lets one log line through per period per key: the
// ratelog gates the sessions use too, one per key.
type rateLimiter struct {
	every time.Duration
	gates ratelog.Keyed
}

func (r *rateLimiter) allow(key string) (ok bool, suppressed int) {
	ok, n := r.gates.Allow(key, wsconn.Nanotime(), r.every)
	return ok, int(n)
}

func (e *Engine) logStale(sym string, depth int, r book.Reason) {
	if ok, n := e.logLimit.allow("stale:" + sym); ok {
		e.log.Warn("book stale; resyncing", "symbol", sym, "depth", depth, "reason", r.String(), "suppressed", n)
	}
}

func (e *Engine) logHookOver(hook, sym string, d time.Duration) {
	if ok, n := e.logLimit.allow("hook:" + hook); ok {
		e.log.Warn("hook over budget", "hook", hook, "symbol", sym, "took", d, "budget", e.cfg.HookBudget, "suppressed", n)
	}
}

// wallClock converts the monotonic receive clock to wall-clock ns, so a
// receive time can be compared with an exchange timestamp.
type wallClock struct {
	wall0, mono0 int64
}

func newWallClock() wallClock {
	return wallClock{wall0: time.Now().UnixNano(), mono0: wsconn.Nanotime()}
}

func (c wallClock) wallNs(mono int64) int64 { return c.wall0 + (mono - c.mono0) }

// tap returns the raw-frame hook of connection i: nil unless recording.
// It copies the frame into the recorder's byte ring and never blocks.
func (e *Engine) tap(i int) func(p []byte, recvNs int64) {
	if e.rec == nil {
		return nil
	}
	br, clock := e.rec.rings[i], e.clock
	return func(p []byte, recvNs int64) { br.Put(clock.wallNs(recvNs), p) }
}
