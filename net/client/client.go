// Package client consumes what ringfeed publishes to NATS (net/publish):
// it keeps replica order books from JetStream snapshots plus live updates,
// with gap detection and resync, and hands trades, klines and tickers to
// typed callbacks.
//
// A Book replica follows the wire contract of net/publish: it starts from
// the newest snapshot in JetStream (or one that arrives live), applies
// deltas whose per-stream number N is one more than the last, and on a
// jump in N, or a stale notice, stops serving the book as live until a
// snapshot restores it (it asks the engine for one on
// ringfeed.<category>.snapreq.<depth>.<symbol>). Its levels are the
// engine's exactly: parsed from the decimal strings at the scales the
// snapshot names, kept in a book.Book capped at the stream's depth, so a
// level pushed out by the cap leaves the replica as it left the engine.
//
// Concurrency: NATS delivers each subscription's messages on one
// goroutine, which alone writes a replica; the read methods (View, Synced,
// Stats) take the replica's mutex and copy, so they are safe from any
// goroutine and nothing they return aliases the replica.
//
// Cost: a JSON decode (a reused fastjson parser) and a B-tree update per
// level on the subscription goroutine, a few microseconds per update
// (BenchmarkDecodeBook, BenchmarkApplyDelta); it allocates the level
// strings. This package is for strategies in other processes, not for the
// engine's hot path.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/publish"
	"github.com/ringfeed/ringfeed/parse"
)

// Client subscribes to one category's subjects on a NATS connection.
type Client struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	category string
}

// New returns a client for category (linear, spot, …) on nc, which the
// caller owns and closes.
func New(nc *nats.Conn, category string) (*Client, error) {
	if category == "" || strings.ContainsAny(category, ".*> ") {
		return nil, fmt.Errorf("client: bad category %q", category)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Client{nc: nc, js: js, category: category}, nil
}

// ErrNoBook is returned by Depths when the engine publishes no book for
// the symbol.
var ErrNoBook = errors.New("client: no book snapshot for this symbol in JetStream")

// Depths lists the book depths published for symbol, from the snapshot
// subjects held in JetStream, deepest first.
func (c *Client) Depths(ctx context.Context, symbol string) ([]int, error) {
	s, err := c.js.Stream(ctx, publish.LastStream)
	if err != nil {
		return nil, err
	}
	filter := publish.Prefix + "." + c.category + ".booksnap.*." + symbol
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, err
	}
	var out []int
	for subj := range info.State.Subjects {
		tok := strings.Split(subj, ".")
		if len(tok) == 5 {
			if d, err := strconv.Atoi(tok[3]); err == nil {
				out = append(out, d)
			}
		}
	}
	if len(out) == 0 {
		return nil, ErrNoBook
	}
	for i := range out { // deepest first; a handful at most
		for j := i + 1; j < len(out); j++ {
			if out[j] > out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out, nil
}

// BookView is a replica book in exactly the shape of the engine's
// GET /v1/book/{symbol}: prices and sizes as decimal strings. It repeats
// ringfeed.BookView's members on purpose: a consumer of the published
// stream must not have to import the engine, and its levels stay the
// wire's strings (publish.BookMsg carries the same members as a message).
type BookView struct {
	Category string      `json:"category"`
	Symbol   string      `json:"symbol"`
	Depth    int         `json:"depth"`
	U        int64       `json:"u"`
	Seq      int64       `json:"seq"`
	TS       int64       `json:"ts"`
	CTS      int64       `json:"cts,omitempty"`
	Stale    bool        `json:"stale"`
	Reason   string      `json:"reason,omitempty"`
	Bids     [][2]string `json:"bids"`
	Asks     [][2]string `json:"asks"`
}

// BookStats count what a replica went through.
type BookStats struct {
	Updates   uint64 // deltas applied
	Snapshots uint64 // snapshots applied (live or from JetStream)
	Gaps      uint64 // jumps in N: updates lost between engine and here
	Resyncs   uint64 // snapshot fetches from JetStream
	Requests  uint64 // snapshot requests sent to the engine
	Bad       uint64 // messages that did not decode
}

// Book is a replica of one (symbol, depth) book stream.
type Book struct {
	c      *Client
	symbol string
	depth  int
	sub    *nats.Subscription
	notify chan struct{}

	mu       sync.Mutex
	b        *book.Book
	synced   bool   // n is meaningful and the replica follows the stream
	n        uint64 // number of the last update applied
	ps, ss   int    // scales from the last snapshot
	stale    bool
	reason   string
	buf      []publish.BookMsg // updates held while not synced
	fetching bool
	lastReq  time.Time
	lastGet  time.Time
	stats    BookStats
	closed   bool
	onUpdate func(*Book)
	lastRecv int64 // recv of the last message applied

	// Owned by the subscription goroutine.
	parser fastjson.Parser
	msg    publish.BookMsg
}

// maxBuffered bounds the updates held while a replica waits for a
// snapshot; past it they are dropped (the snapshot will cover them).
const maxBuffered = 1 << 16

// SubscribeBook starts a replica of symbol's depth stream: it subscribes
// to the live updates first, then fetches the newest snapshot from
// JetStream, so nothing falls between the two. onUpdate, when not nil,
// runs on the subscription goroutine after every applied message; it must
// not block for long (read the replica with View).
func (c *Client) SubscribeBook(symbol string, depth int, onUpdate func(*Book)) (*Book, error) {
	r := &Book{
		c: c, symbol: symbol, depth: depth,
		notify:   make(chan struct{}, 1),
		b:        book.New(book.Config{Depth: depth, Policy: book.Monotonic}),
		stale:    true,
		reason:   book.ReasonNoSnapshot.String(),
		onUpdate: onUpdate,
	}
	sub, err := c.nc.Subscribe(publish.BookSubject(c.category, symbol, depth), r.onMsg)
	if err != nil {
		return nil, err
	}
	// A replica far behind must not be cut off as a slow consumer before
	// it can resync.
	_ = sub.SetPendingLimits(1<<20, 256<<20)
	r.sub = sub
	r.mu.Lock()
	r.fetchLocked()
	r.mu.Unlock()
	return r, nil
}

// Close stops the replica's subscription.
func (r *Book) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return r.sub.Unsubscribe()
}

// Updated is signalled (capacity 1) after messages are applied.
func (r *Book) Updated() <-chan struct{} { return r.notify }

// Synced reports whether the replica follows the stream (it may still
// mirror a stale engine book; see View's Stale).
func (r *Book) Synced() bool { return locked(&r.mu, &r.synced) }

// Live reports whether the replica is synced and the engine's book live.
func (r *Book) Live() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.synced && !r.stale
}

// N returns the number of the last update applied.
func (r *Book) N() uint64 { return locked(&r.mu, &r.n) }

// LastRecv returns when the engine received the frame of the last message
// applied (Unix ns; 0 for a refresh no frame caused): time.Now minus it is
// the frame → replica latency on one machine.
func (r *Book) LastRecv() int64 { return locked(&r.mu, &r.lastRecv) }

// Stats returns the replica's counters.
func (r *Book) Stats() BookStats { return locked(&r.mu, &r.stats) }

// locked reads *p under mu: the one body behind Book's field getters.
func locked[T any](mu *sync.Mutex, p *T) T {
	mu.Lock()
	defer mu.Unlock()
	return *p
}

// View returns a copy of the replica, at most levels per side (0: all).
// Stale is true until the replica is synced and whenever the engine's
// book is stale.
func (r *Book) View(levels int) BookView {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.b.Header()
	v := BookView{Category: r.c.category, Symbol: r.symbol, Depth: r.depth, U: h.U, Seq: h.Seq, TS: h.TS, CTS: h.CTS}
	if !r.synced || r.stale {
		v.Stale = true
		v.Reason = r.reason
		if !r.synced && r.reason == "" {
			v.Reason = "resync"
		}
	}
	v.Bids = r.side(book.Bid, levels)
	v.Asks = r.side(book.Ask, levels)
	return v
}

func (r *Book) side(s book.Side, levels int) [][2]string {
	n := r.b.Len(s)
	if levels > 0 {
		n = min(n, levels)
	}
	ls := make([]book.Level, n)
	ls = ls[:r.b.CopyTop(s, ls)]
	out := make([][2]string, len(ls))
	var buf []byte
	for i, l := range ls {
		buf = parse.AppendDecimal(buf[:0], l.Price, r.ps)
		out[i][0] = string(buf)
		buf = parse.AppendDecimal(buf[:0], l.Size, r.ss)
		out[i][1] = string(buf)
	}
	return out
}

// onMsg runs on the subscription's goroutine, one message at a time, so
// the parser and the decoded message are reused.
func (r *Book) onMsg(m *nats.Msg) {
	bm := &r.msg
	if err := decodeBook(&r.parser, m.Data, bm); err != nil {
		r.mu.Lock()
		r.stats.Bad++
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	applied := r.handleLocked(bm)
	fn := r.onUpdate
	r.mu.Unlock()
	if applied {
		r.signal(fn)
	}
}

func (r *Book) signal(fn func(*Book)) {
	select {
	case r.notify <- struct{}{}:
	default:
	}
	if fn != nil {
		fn(r)
	}
}

// handleLocked applies one live message; it reports whether the replica
// changed.
func (r *Book) handleLocked(m *publish.BookMsg) bool {
	if r.synced {
		switch {
		case m.Type == publish.TypeSnapshot || m.Type == publish.TypeStale:
			// Authoritative: also what follows an engine restart (N
			// starts again at 1).
			return r.resetLocked(m)
		case m.N <= r.n:
			return false // a repeat
		case m.N == r.n+1:
			r.applyLocked(m)
			return true
		}
		r.stats.Gaps++
		r.synced = false
		r.buf = r.buf[:0]
	}
	if m.Type == publish.TypeSnapshot || m.Type == publish.TypeStale {
		changed := r.resetLocked(m)
		r.drainLocked()
		return changed
	}
	if len(r.buf) < maxBuffered {
		held := *m // m's slices are reused for the next message
		held.Bids, held.Asks = slices.Clone(m.Bids), slices.Clone(m.Asks)
		r.buf = append(r.buf, held)
	}
	r.fetchLocked()
	return false
}

// resetLocked makes a snapshot or stale notice the replica's state.
func (r *Book) resetLocked(m *publish.BookMsg) bool {
	h := book.Header{U: m.U, Seq: m.Seq, TS: m.TS, CTS: m.CTS}
	if m.Type == publish.TypeStale {
		r.b.Reset()
		r.b.ApplySnapshot(h, nil, nil) // keep the header, as the engine's view does
		r.stale, r.reason = true, m.Reason
	} else {
		if m.PriceScale > 0 || m.SizeScale > 0 {
			r.ps, r.ss = m.PriceScale, m.SizeScale
		}
		bids, asks, ok := r.sidesLocked(m)
		if !ok {
			return false
		}
		if err := r.b.ApplySnapshot(h, bids, asks); err != nil {
			r.stale, r.reason = true, err.Error()
		} else {
			r.stale, r.reason = false, ""
		}
		r.stats.Snapshots++
	}
	r.n = m.N
	r.synced = true
	r.lastRecv = m.Recv
	return true
}

// drainLocked applies held updates that follow the replica's number.
func (r *Book) drainLocked() {
	for _, m := range r.buf {
		switch {
		case m.N <= r.n:
		case m.N == r.n+1:
			if m.Type == publish.TypeDelta {
				r.applyLocked(&m)
			} else {
				r.resetLocked(&m)
			}
		default:
			// Still a hole: wait for the engine's refresh.
			r.stats.Gaps++
			r.synced = false
			r.buf = r.buf[:0]
			r.requestLocked()
			return
		}
	}
	r.buf = r.buf[:0]
}

func (r *Book) applyLocked(m *publish.BookMsg) {
	r.n = m.N
	if r.stale {
		return // nothing to apply to until a snapshot
	}
	bids, asks, ok := r.sidesLocked(m)
	if !ok {
		return
	}
	h := book.Header{U: m.U, Seq: m.Seq, TS: m.TS, CTS: m.CTS}
	if err := r.b.ApplyDelta(h, bids, asks); err != nil {
		// The engine applied it cleanly, so this replica has diverged.
		r.synced = false
		r.requestLocked()
		return
	}
	r.stats.Updates++
	r.lastRecv = m.Recv
}

// sidesLocked converts m's bids and asks at the replica's scales. When a
// level does not parse it counts the message bad, unsyncs the replica,
// asks for a snapshot and returns false.
func (r *Book) sidesLocked(m *publish.BookMsg) (bids, asks []book.Level, ok bool) {
	bids, err1 := r.levels(m.Bids)
	asks, err2 := r.levels(m.Asks)
	if err1 != nil || err2 != nil {
		r.stats.Bad++
		r.synced = false
		r.requestLocked()
		return nil, nil, false
	}
	return bids, asks, true
}

func (r *Book) levels(in [][2]string) ([]book.Level, error) {
	out := make([]book.Level, len(in))
	for i, l := range in {
		p, err := parse.ParseDecimal([]byte(l[0]), r.ps)
		if err != nil {
			return nil, err
		}
		s, err := parse.ParseDecimal([]byte(l[1]), r.ss)
		if err != nil {
			return nil, err
		}
		out[i] = book.Level{Price: p, Size: s}
	}
	return out, nil
}

// requestLocked asks the engine for a fresh snapshot, at most twice a
// second.
func (r *Book) requestLocked() {
	if time.Since(r.lastReq) < 500*time.Millisecond {
		return
	}
	r.lastReq = time.Now()
	r.stats.Requests++
	_ = r.c.nc.Publish(publish.SnapshotRequestSubject(r.c.category, r.symbol, r.depth), nil)
}

// fetchLocked starts a fetch of the newest snapshot from JetStream unless
// one is running.
func (r *Book) fetchLocked() {
	if r.fetching || r.closed || time.Since(r.lastGet) < 200*time.Millisecond {
		return
	}
	r.fetching = true
	r.lastGet = time.Now()
	r.stats.Resyncs++
	go r.fetch()
}

func (r *Book) fetch() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var snap *publish.BookMsg
	s, err := r.c.js.Stream(ctx, publish.LastStream)
	if err == nil {
		var raw *jetstream.RawStreamMsg
		raw, err = s.GetLastMsgForSubject(ctx, publish.SnapshotSubject(r.c.category, r.symbol, r.depth))
		if err == nil {
			var bm publish.BookMsg
			if err = json.Unmarshal(raw.Data, &bm); err == nil {
				snap = &bm
			}
		}
	}
	r.mu.Lock()
	r.fetching = false
	changed := false
	switch {
	case r.synced || r.closed:
	case snap == nil:
		r.requestLocked()
	case len(r.buf) == 0 || snap.N+1 >= r.buf[0].N:
		changed = r.resetLocked(snap)
		r.drainLocked()
	default:
		// The stored snapshot is older than the updates held: the
		// engine's refresh (asked for here) arrives live.
		r.requestLocked()
	}
	if !r.synced && !r.closed {
		// Nothing more may arrive to prompt another try (a quiet
		// stream, a request lost): look again shortly.
		time.AfterFunc(retryEvery, r.retry)
	}
	fn := r.onUpdate
	r.mu.Unlock()
	if changed {
		r.signal(fn)
	}
}

// retryEvery is how often an unsynced replica fetches the stored snapshot
// again and repeats its request to the engine.
const retryEvery = 500 * time.Millisecond

func (r *Book) retry() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.synced && !r.closed {
		r.fetchLocked()
	}
}
