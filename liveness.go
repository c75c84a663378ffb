package ringfeed

import (
	"sync/atomic"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// Liveness of a stream (DESIGN.md rule 5): a topic the session finds
// silent past its threshold is resubscribed by the session and marked
// stale here until fresh data arrives: a snapshot for a book or a ticker,
// any message for a kline or a trade tape. The session's reader passes the
// silence through the connection's ring as a marker (Sink.Silent), so the
// processor, the single writer of the stream's state, applies it in order
// with the data around it. A silence loses no data, so for a ticker, a
// kline window or a trade tape any message of the stream cures it; a book
// marked stale needs its snapshot like any stale book.
//
// /healthz never waits on a processor, so each stale flag has a published
// copy: books through their seqlock top, other streams through an atomic
// the processor stores when the flag changes (and, for tickers, whose flag
// other handlers write too, at every housekeeping pass).

// staleFlag is the silence flag of a ticker, kline window or trade tape.
// Its processor is the only writer; the zero value is live.
type staleFlag struct {
	v   bool        // the processor's own view
	pub atomic.Bool // published copy for /healthz
}

// set changes the flag (processor goroutine only).
func (f *staleFlag) set(v bool) {
	if f.v != v {
		f.v = v
		f.pub.Store(v)
	}
}

// get reads the flag on the processor goroutine.
func (f *staleFlag) get() bool { return f.v }

// published reads the flag from any goroutine.
func (f *staleFlag) published() bool { return f.pub.Load() }

// silent handles a silence marker: the stream is stale until fresh data
// arrives. The session is already resubscribing it, so no resync is asked
// for here; a book still stale resyncRetry later gets the usual retry.
func (p *processor) silent(st *symState, ev *parse.Event) {
	switch parse.Kind(ev.Seq) {
	case parse.KindBook:
		bs := st.book(ev.Depth)
		if bs == nil || !bs.b.MarkStale(book.ReasonSilent) {
			return
		}
		now := wsconn.Nanotime()
		bs.staleSince = now
		bs.lastStale = book.ReasonSilent
		bs.lastResync = now
		p.e.m.staleBy(book.ReasonSilent).Inc()
		p.pubStale(st, bs, book.ReasonSilent, true) // subscribers learn it too
		p.e.logStale(st.name, int(bs.depth), book.ReasonSilent)
	case parse.KindTicker:
		if st.ticker != nil && !st.ticker.silent.get() {
			st.ticker.silent.set(true)
			p.pubTicker(st, ev.RecvNs) // marked stale for subscribers
		}
	case parse.KindKline:
		if ks := st.kline(ev.Interval); ks != nil {
			ks.silent.set(true)
		}
	case parse.KindTrade:
		st.tradeSilent.set(true)
	}
}

// publishLiveness copies the tickers' stale flags, which several handlers
// write, to their published copies (housekeeping).
func (p *processor) publishLiveness() {
	for _, c := range p.conns {
		for _, st := range c.syms {
			if t := st.ticker; t != nil && t.live.Load() == t.stale {
				t.live.Store(!t.stale)
			}
		}
	}
}
