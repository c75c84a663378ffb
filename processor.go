package ringfeed

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/internal/cpubind"
	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
	"github.com/ringfeed/ringfeed/tape"
)

// Marker kinds the engine's readers put in a ring besides parsed data. The
// parser never produces them (its kinds stay small); a test checks that
// they do not collide.
const (
	// kindDropped: the reader dropped a message for Sym (ring full, or a
	// message that failed to parse midway), or the session found the
	// stream silent (U == markSilent). Seq holds the message's
	// parse.Kind, Depth/Interval its stream.
	kindDropped parse.Kind = 200 + iota
	// kindReset: every stream of the connection lost data: it was
	// (re)established (U 0), or the reader ran out of drop markers (U
	// markNoRoom) while the connection stayed up.
	kindReset
	// kindRaw: a replay frame its reader left unparsed for the processor
	// to parse and apply (replay.go, rawShare); never on a live ring.
	kindRaw
)

// housekeepEvery is how often a processor looks at its slow-path duties
// (stale books waiting for a resync, histogram hand-over, kline fills). The
// engine's housekeeping ticker sets houseDue and rings the bell at this
// period, so a parked processor needs no timer of its own and a spinning
// one no clock read per poll.
const housekeepEvery = 50 * time.Millisecond

// resyncRetry is how long a book may stay stale after a resync request
// before the request is repeated (the session rate-limits them anyway).
const resyncRetry = 5 * time.Second

// processor owns a fixed set of connections (their rings) and every symbol
// on them. It is the single writer of their books, windows, tickers and
// tapes (docs/design.md: single writer): its goroutine, or in park mode a
// reader that holds own while the processor sleeps (lend). Other
// goroutines reach it through queries, served between messages, or the
// seqlock top of book.
type processor struct {
	id    int
	e     *Engine
	conns []*connection
	syms  []*symState  // indexed by symbol id; nil when another processor owns it
	lat   *latRecorder // handling latency: frame receive → applied
	delay *latRecorder // feed delay: exchange ts → frame receive
	stage stageRecorders
	// pickNs is when drain picked up the batch being applied (the wake
	// and apply stages); recs holds applied messages' stamps until the
	// processor has nothing to do (recordDone); idle counts the spinning
	// processor's empty rounds since it last applied something.
	pickNs int64
	recs   [64]doneRec
	nrecs  int
	idle   int
	// mode is how the processor waits on empty rings (Config.Wait); bell
	// is shared by its rings and rung by every publish, query and
	// housekeeping tick.
	mode ring.Mode
	bell *ring.Bell

	// own is held by whoever runs the processor's state: the processor
	// goroutine while it is awake or, when lends is set, a reader that
	// applies for it while it is parked (lend). Every field of the
	// processor but the atomics is touched only by the holder; taking and
	// dropping the flag orders one holder's writes before the next one's
	// reads.
	own   atomic.Bool
	lends bool
	// credit is how much reader time (ns) lending may still take, refilled
	// at lendShare of the wall clock since creditAt; owner's.
	credit, creditAt int64

	queries  chan *query
	nq       atomic.Int32
	houseDue atomic.Bool // set by the engine's housekeeping ticker
	pub      *pubOut     // hand-off to the NATS publisher; nil when not publishing

	applied   atomic.Uint64 // messages applied (Last events), for the status line
	lent      atomic.Uint64 // of those, applied by a reader (lend)
	nApplied  uint64        // of those, applied in the current batch (drain adds them)
	events    atomic.Uint64 // ring events applied
	nEvents   uint64        // replay: events applied beyond the batch's slots (mod 2^64; rawFrames)
	hookOver  atomic.Uint64
	hookNs    [numHooks]atomic.Int64
	hookCalls [numHooks]atomic.Uint64
	untimed   int // replay: messages applied since the last one timed
}

// query is a function run on the processor goroutine between messages.
type query struct {
	fn   func()
	done chan struct{}
}

// run is the processor loop: drain every ring, apply, serve queries, look
// after housekeeping when the ticker says so, and wait per mode when there
// is nothing to do. It returns once every ring is closed and drained.
//
// In spin mode the loop itself is the wait: it runs on a locked OS thread
// (bound to a CPU when Config.CPUs or Pin asks) and goes round without a
// runtime.Gosched, a park or a timer, so a publish is seen within a
// cache-line transfer; queries and housekeeping are served from inside the
// loop. Each spinning processor holds a P (and its thread a core) for good;
// Config.Validate keeps at least one P for everything else (readers, admin
// server, GC): on two cores one processor spins and the rest of the engine
// shares the other P. GOMAXPROCS is not raised to give them more: more Ps
// than cores put more runnable threads than cores beside the spinner, and
// the OS then takes its core away (BenchmarkLatency's spin cases run with
// -cpu 1 and -cpu 2; the figures are in bench/RESULTS.md, "Wait modes").
// In park mode the processor parks on the bell at once when every ring is
// empty, and its readers apply what they publish while it sleeps (lend).
func (p *processor) run() {
	if p.mode == ring.Spin || p.e.cfg.Pin {
		runtime.LockOSThread()
		bound := false
		if cpu, ok := p.e.cpuFor(p.id); ok && (p.e.cfg.Pin || len(p.e.cfg.CPUs) > 0) {
			// An isolated spinner owns its CPU: the process's other
			// threads move to the CPUs left over while it runs
			// (Config.Isolate, cpubind.Reserve).
			var err error
			if p.mode == ring.Spin && p.e.cfg.Isolate {
				var release func()
				if release, err = cpubind.Reserve(cpu); err == nil {
					defer release()
				}
			} else {
				err = cpubind.Pin(cpu)
			}
			if err != nil {
				p.e.log.Warn("processor pinning failed", "processor", p.id, "cpu", cpu, "err", err)
			} else {
				bound = true
			}
		}
		// A thread bound to a CPU is never unlocked: the goroutine
		// exits with the lock held, which ends the thread, so no other
		// goroutine (a later engine's reader, say) inherits the binding.
		if !bound {
			defer runtime.UnlockOSThread()
		}
	}
	for {
		got, open, mid := p.drain()
		// A message split over several slots (a large snapshot, a batch
		// that ended at the ring's wrap point, or a reader that published
		// part of a message while waiting for room) is applied whole
		// before any query looks at the state: nothing half-applied is
		// served as live (docs/design.md: consistent and live, or marked
		// stale). The rest of the message is already published or follows
		// within the reader's bounded wait.
		if p.nq.Load() != 0 && !mid {
			p.serve()
		}
		if p.houseDue.Load() {
			p.houseDue.Store(false)
			p.housekeep(wsconn.Nanotime())
		}
		if open == 0 {
			break
		}
		if got > 0 {
			p.idle = 0
		} else if p.nrecs > 0 {
			if p.idle++; p.mode == ring.Park || p.idle >= recordIdle {
				p.recordDone()
			}
		}
		if got == 0 && p.mode == ring.Park {
			p.park()
		}
	}
	if p.nrecs > 0 {
		p.recordDone()
	}
	p.serve()
}

// drain applies every published slot of every ring once. It reports the
// slots applied, the rings still open (or not yet drained), and whether
// some ring stopped in the middle of a message.
func (p *processor) drain() (got, open int, mid bool) {
	for _, c := range p.conns {
		batch := c.ring.Peek()
		if len(batch) == 0 {
			if !c.ring.Closed() {
				open++
				mid = mid || c.mid
				continue
			}
			// Closed: Peek again, since slots published just before
			// Close still count; the ring is done once it is empty.
			if batch = c.ring.Peek(); len(batch) == 0 {
				continue
			}
		}
		open++
		p.pickNs = wsconn.Nanotime()
		for i := range batch {
			p.apply(c, &batch[i])
		}
		// Counted once per batch, not per event and message: an atomic
		// add waits for the processor's stores to drain.
		p.events.Add(uint64(len(batch)) + p.nEvents)
		p.applied.Add(p.nApplied)
		p.nApplied, p.nEvents = 0, 0
		last := &batch[len(batch)-1]
		c.mid = last.Flags&parse.Last == 0 && last.Kind < kindDropped
		mid = mid || c.mid
		c.ring.Release(len(batch))
		got += len(batch)
	}
	return got, open, mid
}

// recordIdle is how many empty rounds a spinning processor waits before it
// records the latencies of what it applied: eight histogram updates per
// message, cold, take longer than the gap between two messages of a burst
// (a reader commits one every 1–2 µs at Bybit's cadence), so recording as
// soon as a ring is empty made the next message of the burst wait for it.
// A few hundred rounds are some microseconds: past the burst.
const recordIdle = 256

// ready reports whether the processor has something to do; the last look
// before it parks (ring.Bell.Park).
func (p *processor) ready() bool {
	return p.chores() || p.pending()
}

// chores reports whether a query or housekeeping waits for the processor
// goroutine (never done by a lending reader).
func (p *processor) chores() bool {
	return p.nq.Load() != 0 || p.houseDue.Load()
}

// pending reports whether some ring holds published slots.
func (p *processor) pending() bool {
	for _, c := range p.conns {
		if c.ring.Ready() {
			return true
		}
	}
	return false
}

// prepare readies p to run: it holds own until it first parks, and lends
// itself to its readers (lend) when lends is set. Called before run.
func (p *processor) prepare(lends bool) {
	p.own.Store(true)
	p.lends = lends
	p.credit, p.creditAt = lendBurst, wsconn.Nanotime()
	for _, c := range p.conns {
		c.sink.lender = nil
		if lends {
			c.sink.lender = p
		}
	}
}

// park waits on the bell until there is work. A lending processor drops
// own first, so its readers may apply for it meanwhile, and takes it back
// before it returns; it wakes for work only while own is free (a reader
// holding it rings once it lets go, see lend).
func (p *processor) park() {
	if !p.lends {
		p.bell.Park(p.ready)
		return
	}
	p.own.Store(false)
	for {
		p.bell.Park(p.readyFree)
		if p.own.CompareAndSwap(false, true) {
			return
		}
	}
}

// readyFree is ready while no reader holds own.
func (p *processor) readyFree() bool {
	return !p.own.Load() && p.ready()
}

// Lending. At Bybit's cadence a parked processor's wake-up (a channel send,
// then the scheduler finding it a P) is most of the hand-off, and the reader
// that publishes has nothing to do until its socket has more. So in park
// mode a reader that finds the processor parked takes own and applies
// what the processor's rings hold on its own goroutine (any ring: the
// processor's state is one), then lets go; the processor stays asleep.
// Queries, housekeeping and hooks stay on the processor goroutine: a
// reader never serves them (lending is off when hooks are registered, so a
// slow hook cannot hold up a socket), and rings the bell for them when it
// lets go.
//
// Lending serialises parse and apply on the reader, so it is bounded: a
// reader lends only when the rings hold at most lendSlots slots (a backlog
// is the processor's, applied while the reader reads on), and the readers
// of one processor may spend lendShare of the wall clock applying (a burst
// of up to lendBurst), past which they wake the processor as before and
// the two run in parallel again (500k msgs/s is far past it).
const (
	lendSlots = 64
	lendShare = 8 // a reader may apply for 1/lendShare of the wall clock
	lendBurst = int64(2 * time.Millisecond)
	lendMax   = 4 // drains per lend before the rest is left to the processor
)

// lend applies the processor's pending slots on the calling reader's
// goroutine if the processor is parked and the lending budget allows. It
// reports whether the slots are taken care of: applied, or seen by
// whoever holds own now (the holder looks for work after it lets go). If
// not, the caller rings the bell.
func (p *processor) lend() bool {
	if !p.bell.Parked() {
		return false
	}
	n := 0
	for _, c := range p.conns {
		n += c.ring.Len()
	}
	if n > lendSlots {
		return false
	}
	if !p.own.CompareAndSwap(false, true) {
		// Another reader is applying (or the processor is taking own
		// back): it loads the rings after it lets go, and our publish
		// came before that. Waking the processor now would only have it
		// find own taken and park again.
		return true
	}
	start := wsconn.Nanotime()
	p.credit = min(p.credit+(start-p.creditAt)/lendShare, lendBurst)
	p.creditAt = start
	if p.credit <= 0 {
		p.own.Store(false)
		return false
	}
	before := p.applied.Load() // p's own counter: no other writer now
	for i := 1; ; i++ {
		p.drain()
		if i < lendMax && p.pending() && !p.chores() {
			continue
		}
		p.lent.Add(p.applied.Load() - before)
		now := wsconn.Nanotime()
		p.credit -= now - start
		p.own.Store(false)
		// What arrived while the reader held own (a query, a tick,
		// another reader's publish that found own taken) is seen here,
		// after letting go: each side stores its flag before it loads
		// the other's, so nothing is missed. Another reader's messages
		// are applied here too while the drains last; the rest, and
		// every chore, is the processor's.
		switch {
		case p.chores():
			p.bell.Ring()
			return true
		case !p.pending():
			return true
		case i >= lendMax:
			p.bell.Ring()
			return true
		case !p.own.CompareAndSwap(false, true):
			return true // its new holder looks after letting go, as here
		}
		start, before = now, p.applied.Load()
	}
}

// serve runs pending queries.
func (p *processor) serve() {
	for {
		select {
		case q := <-p.queries:
			p.nq.Add(-1)
			q.fn()
			close(q.done)
		default:
			return
		}
	}
}

// apply applies one event from connection c.
func (p *processor) apply(c *connection, ev *parse.Event) {
	if ev.Kind == kindRaw {
		c.raw.apply(p, c, ev) // counts the events it applies
		return
	}
	if ev.Kind == kindReset {
		// Connection-wide: carries no symbol.
		p.reset(c, ev.U == markNoRoom)
		return
	}
	if int(ev.Sym) >= len(p.syms) || p.syms[ev.Sym] == nil {
		p.e.m.unowned.Inc()
		return
	}
	st := p.syms[ev.Sym]
	switch ev.Kind {
	case parse.KindBook:
		p.applyBook(st, ev)
	case parse.KindKline:
		p.applyKline(st, ev)
	case parse.KindTicker:
		p.applyTicker(st, ev)
	case parse.KindTrade:
		p.applyTrade(st, ev)
	case kindDropped:
		if ev.U == markSilent {
			p.silent(st, ev)
			return
		}
		p.dropped(st, ev)
	}
}

// done stamps an applied message. Its latencies go into the histograms
// when the processor runs out of work (recordDone, see recordIdle): eight
// histogram updates, cold at Bybit's cadence, would otherwise delay every
// later message of the batch or burst.
func (p *processor) done(ev *parse.Event) {
	if ev.Flags&parse.Last == 0 {
		return
	}
	if p.e.cfg.replay {
		p.replayDone(ev) // sampled: see replayLatEvery
		return
	}
	p.recs[p.nrecs] = doneRec{recv: ev.RecvNs, parse: ev.ParseNs, done: ev.DoneNs, pub: ev.PubNs,
		pick: p.pickNs, now: wsconn.Nanotime(), ts: ev.TS}
	if p.nrecs++; p.nrecs == len(p.recs) {
		p.recordDone()
	}
	p.nApplied++
}

// doneRec is an applied message's stamps (parse.Event's, the batch's
// pick-up and when it was applied), waiting for recordDone.
type doneRec struct {
	recv, parse, done, pub, pick, now, ts int64
}

// recordDone adds the stamped messages to the latency histograms.
func (p *processor) recordDone() {
	off := int64(p.e.probe.Offset())
	for i := range p.recs[:p.nrecs] {
		r := &p.recs[i]
		p.lat.record(r.now - r.recv)
		p.stage.record(r.recv, r.parse, r.done, r.pub, r.pick, r.now)
		if r.ts > 0 {
			p.delay.record(p.e.clock.wallNs(r.recv) + off - r.ts*1e6)
		}
	}
	p.nrecs = 0
}

func (p *processor) applyBook(st *symState, ev *parse.Event) {
	bs := st.book(ev.Depth)
	if bs == nil {
		p.e.m.unexpected.Inc()
		return
	}
	b := bs.b
	if ev.Flags&parse.First != 0 {
		h := book.Header{U: ev.U, Seq: ev.Seq, TS: ev.TS, CTS: ev.CTS}
		if ev.Flags&parse.Snapshot != 0 {
			b.BeginSnapshot(h)
		} else {
			b.BeginDelta(h)
		}
	}
	for _, l := range ev.Bids() {
		b.Set(book.Bid, book.Level(l))
	}
	for _, l := range ev.Asks() {
		b.Set(book.Ask, book.Level(l))
	}
	if ev.Flags&parse.Last == 0 {
		p.pubBook(st, bs, ev, nil)
		return
	}
	err := b.End()
	p.pubBook(st, bs, ev, err)
	p.done(ev)
	p.anomalies(st, bs)
	switch {
	case err == nil:
		if bs.staleSince != 0 {
			bs.staleSince = 0
			p.e.m.recovered.Inc()
		}
		if len(p.e.hooks.book) > 0 {
			p.hook(hookBook, st.name, func() { p.e.hooks.runBook(BookRef{symRef{p.e, st}, bs}) })
		}
	case err == book.ErrStale, err == book.ErrDuplicate:
		// Stale: ignored until the snapshot the resync brings.
		// Duplicate: dropped, counted by anomalies, the book live.
	default:
		p.wentStale(st, bs, b.Reason())
	}
}

// wentStale counts a live → stale transition and asks the session for a
// resync of that book's topic alone.
func (p *processor) wentStale(st *symState, bs *bookState, r book.Reason) {
	now := wsconn.Nanotime()
	bs.staleSince = now
	bs.lastStale = r
	p.e.m.staleBy(r).Inc()
	p.pubStale(st, bs, r, true)
	p.e.logStale(st.name, int(bs.depth), r)
	p.resync(st, bs, now)
}

func (p *processor) resync(st *symState, bs *bookState, now int64) {
	bs.lastResync = now
	if st.conn.sess != nil && st.conn.sess.Resync(bs.topic) {
		p.e.m.resyncs.Inc()
	}
}

func (p *processor) applyKline(st *symState, ev *parse.Event) {
	ks := st.kline(ev.Interval)
	if ks == nil {
		p.e.m.unexpected.Inc()
		return
	}
	ks.silent.set(false)
	out := ks.w.Update(kline.Candle(ev.Candle))
	if out == kline.Appended {
		if ks.w.LastGap().Missing > 0 {
			ks.needFill = true
			ks.full = ks.full || !p.e.cfg.NoKlineHistory
		} else if prev, ok := ks.w.At(1); ok && !prev.Confirm {
			// A new start while the previous candle is unconfirmed: its
			// final (confirm) push was missed, over a reconnect or a lost
			// frame, and the window would keep its last partial state as
			// the closed candle. Refresh the newest candles from REST,
			// whose rows but the newest are final (docs: close it when
			// the next start appears and back-fill).
			ks.needFill = true
		}
	}
	p.e.m.klineOutcome(out).Inc()
	p.pubKline(st, ks, ev)
	p.done(ev)
	if len(p.e.hooks.kline) > 0 && ev.Flags&parse.Last != 0 {
		p.hook(hookKline, st.name, func() { p.e.hooks.runKline(KlineRef{symRef{p.e, st}, ks}) })
	}
}

func (p *processor) applyTicker(st *symState, ev *parse.Event) {
	if st.ticker == nil {
		p.e.m.unexpected.Inc()
		return
	}
	st.ticker.apply(ev)
	if ev.Ticker.Unfit != 0 {
		p.unfitTicker(st, &ev.Ticker)
	}
	p.pubTicker(st, ev.RecvNs)
	p.done(ev)
	if len(p.e.hooks.ticker) > 0 {
		p.hook(hookTicker, st.name, func() { p.e.hooks.runTicker(TickerRef{symRef{p.e, st}, st.ticker}) })
	}
}

func (p *processor) applyTrade(st *symState, ev *parse.Event) {
	if st.tape == nil {
		p.e.m.unexpected.Inc()
		return
	}
	st.tradeSilent.set(false)
	switch st.tape.Add(&ev.Trade, ev.Seq) {
	case tape.Taped:
		p.e.m.trades.Inc()
		p.pubTrade(st, ev)
		if len(p.e.hooks.trade) > 0 {
			p.hook(hookTrade, st.name, func() { p.e.hooks.runTrade(TradeRef{symRef{p.e, st}, &ev.Trade, ev.Seq}) })
		}
	case tape.Repeat:
		p.e.m.tradeDups.Inc()
	case tape.Overlap:
		// Refilled from REST while it was still on its way.
		if p.e.refill != nil {
			p.e.refill.m.tradeOverlaps.Inc()
		}
	}
	p.done(ev)
}

// dropped handles a reader's drop marker: the stream lost a message (ring
// full, or a message that failed to parse midway), so whatever it feeds is
// no longer trustworthy.
func (p *processor) dropped(st *symState, ev *parse.Event) {
	switch parse.Kind(ev.Seq) {
	case parse.KindBook:
		r := book.ReasonDropped
		if ev.U == markBadInput {
			r = book.ReasonBadNumber
		}
		if bs := st.book(ev.Depth); bs != nil && bs.b.MarkStale(r) {
			p.wentStale(st, bs, r)
		}
	case parse.KindTicker:
		if st.ticker != nil {
			// A lost delta leaves fields behind; only a snapshot
			// (resubscribe) makes the ticker whole again.
			p.tickerStale(st, wsconn.Nanotime(), true)
		}
	case parse.KindKline:
		if ks := st.kline(ev.Interval); ks != nil {
			ks.needFill = true
		}
	case parse.KindTrade:
		p.e.m.tradesLost.Inc()
		now := wsconn.Nanotime()
		if p.e.cfg.Category != Option {
			p.lostTrades(st, now)
			break
		}
		// An option trade batch carries every option of the base coin
		// (publicTrade.{BASE}); the marker names one of them.
		for _, o := range st.conn.syms {
			if o.trade == st.trade {
				p.lostTrades(o, now)
			}
		}
	}
}

// tickerStale marks st's ticker stale and, with resync, asks the session
// to resubscribe its topic for a fresh snapshot.
func (p *processor) tickerStale(st *symState, now int64, resync bool) {
	t := st.ticker
	if !t.stale {
		t.stale = true
		p.pubTicker(st, 0) // consumers learn it is stale
	}
	t.lastResync = now
	if resync && st.conn.sess != nil {
		st.conn.sess.Resync(t.topic)
	}
}

// reset handles a connection-wide reset marker: every stream of connection
// c lost data. After a reconnect (overflow false) the session resubscribes
// every topic, so books and tickers wait for their snapshots; after the
// reader ran out of drop markers (overflow: the connection stayed up) no
// snapshot comes by itself, so every book and ticker is resynced now. In
// both cases the trade tapes are refilled and the kline windows refreshed
// from REST.
func (p *processor) reset(c *connection, overflow bool) {
	now := wsconn.Nanotime()
	c.resets++
	lost := overflow || c.resets > 1
	for _, st := range c.syms {
		for _, bs := range st.books {
			if bs.b.MarkStale(book.ReasonResync) {
				bs.staleSince = now
				bs.lastStale = book.ReasonResync
				p.e.m.staleBy(book.ReasonResync).Inc()
				p.pubStale(st, bs, book.ReasonResync, true)
			}
			if overflow {
				p.resync(st, bs, now)
			} else {
				bs.lastResync = now
			}
		}
		if st.ticker != nil {
			p.tickerStale(st, now, overflow)
		}
		if !lost {
			continue
		}
		p.lostTrades(st, now)
		for _, ks := range st.klines {
			ks.needFill = true
			if !overflow && !p.e.cfg.NoKlineHistory {
				ks.full = true // the connection may have been down for long
			}
		}
	}
}

// housekeep runs between batches every housekeepEvery: retries resyncs of
// books that stayed stale, hands the latency histograms over, and starts
// kline history fills.
func (p *processor) housekeep(now int64) {
	p.lat.maybeSwap()
	p.delay.maybeSwap()
	p.stage.maybeSwap()
	p.publishLiveness()
	p.pubHousekeep(now)
	for _, c := range p.conns {
		for _, st := range c.syms {
			for _, bs := range st.books {
				if bs.b.Stale() && now-bs.lastResync > int64(resyncRetry) {
					if bs.staleSince == 0 {
						bs.staleSince = now
					}
					p.resync(st, bs, now)
				}
			}
			if t := st.ticker; t != nil && t.stale && now-t.lastResync > int64(resyncRetry) {
				if t.lastResync == 0 {
					t.lastResync = now // start-up: the subscription brings the snapshot
				} else {
					p.tickerStale(st, now, true)
				}
			}
			if p.e.refill == nil {
				continue
			}
			for _, ks := range st.klines {
				if ks.needFill && !ks.filling {
					ks.filling = true
					ks.needFill = false
					p.e.refill.request(p.klineJob(st, ks))
				}
			}
			if st.reloadInstrument {
				st.reloadInstrument = false
				p.e.refill.request(p.instrumentJob(st))
			}
			if tf := &st.tf; tf.need && !tf.filling && now-tf.since > tradeRefillSettle {
				tf.filling = true
				tf.need = false
				p.e.refill.request(p.tradeJob(st))
			}
		}
	}
}

type hookKind uint8

const (
	hookBook hookKind = iota
	hookKline
	hookTicker
	hookTrade
	numHooks
)

var hookNames = [numHooks]string{"book", "kline", "ticker", "trade"}

// hook runs a user hook inline and times it against the budget; calls over
// it are counted and logged (rate-limited). A callback-style client would
// time such calls out; here a slow hook only delays this processor.
func (p *processor) hook(k hookKind, sym string, fn func()) {
	start := wsconn.Nanotime()
	fn()
	d := wsconn.Nanotime() - start
	p.hookNs[k].Add(d)
	p.hookCalls[k].Add(1)
	if d > int64(p.e.cfg.HookBudget) {
		p.hookOver.Add(1)
		p.e.m.hookOver[k].Inc()
		p.e.logHookOver(hookNames[k], sym, time.Duration(d))
	}
}
