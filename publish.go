package ringfeed

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/publish"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// PublishConfig turns on the NATS fan-out (see net/publish for the
// subjects and the wire format). The zero value publishes nothing.
type PublishConfig struct {
	// URL is a comma-separated list of NATS servers (nats://host:port).
	URL string
	// Creds is a NATS credentials file (--nats-creds); CA a PEM file of
	// certificate authorities for tls:// servers (--nats-ca).
	Creds string
	CA    string
	// RingSize is the slot count of each processor's hand-off ring to the
	// publisher (power of two); 0: DefaultPublishRing.
	RingSize int
	// SnapshotEvery is how often each live book's snapshot is refreshed in
	// JetStream besides after every resync; 0: DefaultSnapshotEvery.
	SnapshotEvery time.Duration
	// TradeMaxAge is the trade stream's retention; 0: 24 h.
	TradeMaxAge time.Duration
}

// Publishing defaults. A slot is about 1.2 KiB, so the default ring is
// 10 MiB per processor: 80 ms of a 100k msgs/s feed if the publisher
// goroutine stalls.
const (
	DefaultPublishRing   = 8192
	DefaultSnapshotEvery = 10 * time.Second
)

func (c *PublishConfig) validate() error {
	if c.URL == "" {
		return nil
	}
	u, err := publish.ParseURLs(c.URL)
	if err != nil {
		return cfgErr("Publish.URL", "%v", err)
	}
	c.URL = u
	for _, f := range []struct{ field, path string }{{"Publish.Creds", c.Creds}, {"Publish.CA", c.CA}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return cfgErr(f.field, "%v", err)
		}
	}
	if c.RingSize == 0 {
		c.RingSize = DefaultPublishRing
	}
	if c.RingSize < 2 || c.RingSize&(c.RingSize-1) != 0 {
		return cfgErr("Publish.RingSize", "%d is not a power of two ≥ 2", c.RingSize)
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	if c.SnapshotEvery < 0 {
		return cfgErr("Publish.SnapshotEvery", "must not be negative")
	}
	return nil
}

// bookPub is a book stream's publishing state, owned by the processor
// except want, which the publisher sets.
type bookPub struct {
	n    uint64      // number of the last update of this stream
	lost bool        // an update did not make it into the ring: refresh owed
	at   int64       // Nanotime of the last snapshot handed over
	want atomic.Bool // set by the publisher: a consumer asked, or NATS reconnected
}

// Modes of the book message in progress.
const (
	pubNone uint8 = iota
	pubCopy       // a delta: its levels are copied slot by slot
	pubSnap       // a snapshot: the book is copied once it ends
	pubSkip       // nothing to hand over (refresh owed, or ring full)
)

// pubOut is one processor's side of the hand-off: the producer end of an
// SPSC ring the publisher drains. Everything here runs on the processor
// goroutine; a full ring costs a counted drop, never a wait.
type pubOut struct {
	r       *ring.SPSC[publish.Msg]
	pending int          // slots reserved for the delta in progress
	last    *publish.Msg // the newest of them
	mode    uint8
	cur     *bookState
	lv      []book.Level // scratch for snapshots
	every   int64
	drops   *metrics.Counter
}

func newPubOut(size int, every time.Duration, drops *metrics.Counter) *pubOut {
	// The publisher polls while busy and parks only after a millisecond
	// without slots (see net/publish); the processor never waits on a
	// full ring (it only calls Reserve).
	r := ring.NewWithOptions[publish.Msg](size, ring.Options{})
	return &pubOut{r: r, every: int64(every), drops: drops}
}

// abort abandons the book message in progress, if any, and its slots: a
// new message began, or the book went stale, before it ended.
func (o *pubOut) abort() {
	if o.pending > 0 {
		o.r.Rollback(o.pending)
		o.pending, o.last = 0, nil
	}
	o.mode, o.cur = pubNone, nil
}

func (o *pubOut) reserve() *publish.Msg {
	m := o.r.Reserve()
	if m == nil {
		o.drops.Inc()
	}
	return m
}

// single begins a one-slot message (trade, kline, ticker) numbered by *n:
// it abandons any book message in progress, counts the update in *n even
// when the ring is full (the consumer then sees the gap) and reserves the
// slot, nil when the ring is full. The caller fills it and publishes.
func (o *pubOut) single(n *uint64) *publish.Msg {
	o.abort()
	*n++
	return o.reserve()
}

// pubBook hands over one applied part of a book message: every part of a
// delta is copied as it is applied and the whole delta made visible when
// its last part ends cleanly (End's err is nil); a snapshot is copied from
// the book once it ended. A message that fails is rolled back; the stale
// notice follows from wentStale.
func (p *processor) pubBook(st *symState, bs *bookState, ev *parse.Event, err error) {
	o := p.pub
	if o == nil {
		return
	}
	if ev.Flags&parse.First != 0 {
		o.abort()
		o.cur = bs
		switch {
		case ev.Flags&parse.Snapshot != 0 || ev.U == 1:
			o.mode = pubSnap
		case bs.pub.lost:
			o.mode = pubSkip
		default:
			o.mode = pubCopy
		}
	} else if o.cur != bs {
		// A continuation without its start (the reader dropped it).
		o.abort()
		o.mode, o.cur = pubSkip, bs
	}
	if o.mode == pubCopy {
		if m := o.reserve(); m != nil {
			o.pending++
			o.last = m
			m.Op, m.Flags = publish.OpDelta, ev.Flags&(parse.First|parse.Last)
			m.Depth, m.Sym, m.Interval = ev.Depth, ev.Sym, 0
			m.RecvNs, m.TS, m.CTS, m.U, m.Seq = ev.RecvNs, ev.TS, ev.CTS, ev.U, ev.Seq
			m.NBids, m.NAsks = ev.NBids, ev.NAsks
			copy(m.Levels[:], ev.Levels[:ev.NBids+ev.NAsks])
		} else {
			o.abort()
			o.mode, o.cur = pubSkip, bs
			bs.pub.lost = true
		}
	}
	if ev.Flags&parse.Last == 0 {
		return
	}
	mode := o.mode
	o.mode, o.cur = pubNone, nil
	if err != nil {
		o.abort()
		return
	}
	bs.pub.n++
	switch mode {
	case pubCopy:
		o.last.N = bs.pub.n
		o.pending, o.last = 0, nil
		o.r.Publish()
	case pubSnap:
		p.pubSnapshot(st, bs, ev.RecvNs)
	case pubSkip:
		bs.pub.lost = true // the refresh will carry this update
	}
}

// pubSnapshot copies the whole book into consecutive slots under the
// stream's current number. On a full ring nothing is handed over and the
// refresh is retried from housekeep.
func (p *processor) pubSnapshot(st *symState, bs *bookState, recvNs int64) bool {
	o := p.pub
	b := bs.b
	nb, na := b.Len(book.Bid), b.Len(book.Ask)
	total := nb + na
	if cap(o.lv) < total {
		o.lv = make([]book.Level, total)
	}
	lv := o.lv[:total]
	b.CopyTop(book.Bid, lv[:nb])
	b.CopyTop(book.Ask, lv[nb:])
	h := b.Header()
	slots := max(1, (total+publish.LevelsPerSlot-1)/publish.LevelsPerSlot)
	for i := range slots {
		m := o.r.Reserve()
		if m == nil {
			o.r.Rollback(i)
			o.drops.Inc()
			bs.pub.lost = true
			return false
		}
		lo, hi := i*publish.LevelsPerSlot, min((i+1)*publish.LevelsPerSlot, total)
		m.Op, m.Flags = publish.OpSnapshot, 0
		if i == 0 {
			m.Flags |= parse.First
		}
		if i == slots-1 {
			m.Flags |= parse.Last
		}
		m.Depth, m.Sym, m.N = bs.depth, st.id, bs.pub.n
		m.RecvNs, m.TS, m.CTS, m.U, m.Seq = recvNs, h.TS, h.CTS, h.U, h.Seq
		m.NBids = uint16(max(0, min(hi, nb)-lo))
		m.NAsks = uint16(hi - lo - int(m.NBids))
		for j, l := range lv[lo:hi] {
			m.Levels[j] = parse.Level(l)
		}
	}
	o.r.Publish()
	bs.pub.lost = false
	bs.pub.at = wsconn.Nanotime()
	return true
}

// pubStale hands over a live → stale transition (next reports whether it
// is a new update or a repeat of the current state).
func (p *processor) pubStale(st *symState, bs *bookState, r book.Reason, next bool) bool {
	o := p.pub
	if o == nil {
		return true
	}
	o.abort()
	if next {
		bs.pub.n++
	}
	m := o.reserve()
	if m == nil {
		bs.pub.lost = true
		return false
	}
	h := bs.b.Header()
	m.Op, m.Flags, m.Reason = publish.OpStale, parse.First|parse.Last, uint8(r)
	m.Depth, m.Sym, m.N = bs.depth, st.id, bs.pub.n
	m.RecvNs, m.TS, m.CTS, m.U, m.Seq = 0, h.TS, h.CTS, h.U, h.Seq
	m.NBids, m.NAsks = 0, 0
	o.r.Publish()
	bs.pub.lost = false
	bs.pub.at = wsconn.Nanotime()
	return true
}

// pubTrade hands over a new trade.
func (p *processor) pubTrade(st *symState, ev *parse.Event) {
	o := p.pub
	if o == nil {
		return
	}
	m := o.single(&st.pubTradeN)
	if m == nil {
		return
	}
	m.Op, m.Flags, m.Sym, m.N = publish.OpTrade, parse.First|parse.Last, st.id, st.pubTradeN
	m.RecvNs, m.TS, m.Seq = ev.RecvNs, ev.TS, ev.Seq
	m.Trade = ev.Trade
	o.r.Publish()
}

// pubKline hands over the current state of the candle ev updated.
func (p *processor) pubKline(st *symState, ks *klineState, ev *parse.Event) {
	o := p.pub
	if o == nil {
		return
	}
	m := o.single(&ks.pubN)
	if m == nil {
		return
	}
	m.Op, m.Flags, m.Sym, m.N, m.Interval = publish.OpKline, parse.First|parse.Last, st.id, ks.pubN, ks.iv
	m.RecvNs, m.TS = ev.RecvNs, ev.TS
	m.Candle = ev.Candle
	o.r.Publish()
}

// pubTicker hands over the whole merged ticker, also when it just went
// stale (a lost delta, a new connection) so consumers know.
func (p *processor) pubTicker(st *symState, recvNs int64) {
	o := p.pub
	if o == nil {
		return
	}
	t := st.ticker
	m := o.single(&t.pubN)
	if m == nil {
		return
	}
	m.Op, m.Flags, m.Sym, m.N = publish.OpTicker, parse.First|parse.Last, st.id, t.pubN
	m.RecvNs, m.TS, m.Seq, m.Reason = recvNs, t.ts, t.cs, 0
	if t.stale || t.silent.get() { // a lost delta, or the topic went silent
		m.Reason = 1
	}
	m.Ticker = t.t
	o.r.Publish()
}

// pubHousekeep refreshes the snapshots that are owed (a lost update), asked
// for (a consumer's request, a NATS reconnect) or due (SnapshotEvery). It
// runs between batches, never inside a split message.
func (p *processor) pubHousekeep(now int64) {
	o := p.pub
	if o == nil || o.mode != pubNone || o.pending > 0 {
		return
	}
	for _, c := range p.conns {
		for _, st := range c.syms {
			for _, bs := range st.books {
				want := bs.pub.want.Swap(false)
				if !want && !bs.pub.lost && now-bs.pub.at < o.every {
					continue
				}
				var ok bool
				if bs.b.Stale() {
					ok = p.pubStale(st, bs, bs.b.Reason(), false)
				} else {
					ok = p.pubSnapshot(st, bs, 0)
				}
				if !ok {
					if want {
						bs.pub.want.Store(true)
					}
					return // the ring is full: try again next time
				}
			}
		}
	}
}

// startPublisher builds the processors' rings and starts the publisher; it
// runs in Run once the symbol scales are final.
func (e *Engine) startPublisher() error {
	pc := e.cfg.Publish
	if pc.URL == "" {
		return nil
	}
	drops := e.set.NewCounter(`ringfeed_publish_dropped_total{side="processor"}`)
	var rings []*ring.SPSC[publish.Msg]
	for _, p := range e.procs {
		p.pub = newPubOut(pc.RingSize, pc.SnapshotEvery, drops)
		rings = append(rings, p.pub.r)
	}
	var opts []nats.Option
	if pc.Creds != "" {
		opts = append(opts, nats.UserCredentials(pc.Creds))
	}
	if pc.CA != "" {
		opts = append(opts, nats.RootCAs(pc.CA))
	}
	pub, err := publish.New(publish.Config{
		URL:      pc.URL,
		Options:  opts,
		Category: string(e.cfg.Category),
		Rings:    rings,
		Symbol: func(id uint32) (string, int, int) {
			ps, ss := e.syms.Scales(id)
			return e.syms.Name(id), ps, ss
		},
		Wall:         e.clock.wallNs,
		WantSnapshot: e.wantSnapshot,
		WantAll:      e.wantAllSnapshots,
		TradeMaxAge:  pc.TradeMaxAge,
		BackoffBase:  e.cfg.Session.BackoffBase,
		BackoffCap:   e.cfg.Session.BackoffCap,
		Metrics:      e.set,
		Logger:       e.log,
	})
	if err != nil {
		return cfgErr("Publish.URL", "%v", err)
	}
	if err := pub.Start(); err != nil {
		return fmt.Errorf("ringfeed: %w", err)
	}
	e.pub = pub
	return nil
}

// stopPublisher drains the rings once the processors stopped.
func (e *Engine) stopPublisher() {
	if e.pub != nil {
		e.pub.Close(5 * time.Second)
	}
}

// Publisher returns the running NATS publisher, nil when not publishing.
// An engine serving several categories runs one publisher per category:
// ask Category(c).Publisher().
func (e *Engine) Publisher() *publish.Publisher { return e.pub }

func (e *Engine) wantSnapshot(symbol string, depth int) {
	id, ok := e.syms.Lookup([]byte(symbol))
	if !ok || int(id) >= len(e.bySym) || e.bySym[id] == nil {
		return
	}
	if bs := e.bySym[id].book(uint16(depth)); bs != nil {
		bs.pub.want.Store(true)
	}
}

func (e *Engine) wantAllSnapshots() {
	for _, st := range e.bySym {
		if st == nil {
			continue
		}
		for _, bs := range st.books {
			bs.pub.want.Store(true)
		}
	}
}
