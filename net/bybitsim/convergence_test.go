package bybitsim

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// follower is a feed handler in miniature, as the engine must be: it
// follows books, treats a u gap, a crossed book or a quiet mismatch as
// stale and resubscribes, and reconnects when the socket dies.
type follower struct {
	t      *testing.T
	s      *Server
	cat    string
	topics []string
	depth  map[string]int
	books  map[string]*localBook
	stale  map[string]bool
	cl     *client
	ctx    context.Context

	reconnects, resyncs int
}

func newConvergenceFollower(t *testing.T, ctx context.Context, s *Server, cat string, topics map[string]int) *follower {
	f := &follower{t: t, s: s, cat: cat, depth: topics, ctx: ctx,
		books: map[string]*localBook{}, stale: map[string]bool{}}
	for tp := range topics {
		f.topics = append(f.topics, tp)
	}
	f.connect()
	return f
}

func (f *follower) connect() {
	f.t.Helper()
	if f.cl != nil {
		f.cl.close()
		f.reconnects++
	}
	for attempt := 0; ; attempt++ {
		cl, err := tryDial(f.t, f.s.URL(f.cat))
		if err == nil {
			f.cl = cl
			break
		}
		if attempt > 50 {
			f.t.Errorf("cannot reconnect: %v", err)
			return
		}
		time.Sleep(10 * time.Millisecond) // refused or delayed handshakes
	}
	for _, tp := range f.topics {
		f.books[tp] = nil
		f.stale[tp] = true
	}
	f.write(subscribeMsg(f.topics...))
}

func (f *follower) write(s string) {
	wctx, cancel := context.WithTimeout(f.ctx, waitLong)
	defer cancel()
	_ = f.cl.c.Write(wctx, websocket.MessageText, []byte(s)) // a failure shows up on read
}

func (f *follower) resync(tp string) {
	f.resyncs++
	f.books[tp] = nil
	f.stale[tp] = true
	f.write(`{"op":"unsubscribe","args":["` + tp + `"]}`)
	f.write(subscribeMsg(tp))
}

// read takes one message; it reports false when nothing came within d.
func (f *follower) read(d time.Duration) bool {
	f.t.Helper()
	m, ok := f.cl.nextMsg(d)
	if !ok {
		select {
		case <-f.cl.done: // dropped: reconnect and resubscribe
			f.connect()
			return true
		default:
			return false
		}
	}
	typ, p := m.typ, m.data
	var fr frame
	if typ != websocket.MessageText || json.Unmarshal(p, &fr) != nil || fr.Topic == "" {
		return true // garbage, binary, oversize, acks, pongs
	}
	lb, followed := f.books[fr.Topic]
	if !followed {
		return true // e.g. the oversize fault's padding frame
	}
	var d0 bookData
	if err := json.Unmarshal(fr.Data, &d0); err != nil {
		f.t.Errorf("bad book data %s: %v", fr.Data, err) // not Fatal: may run off the test goroutine
		return true
	}
	switch {
	case fr.Type == "snapshot":
		lb = newLocalBook()
		lb.snapshot(d0)
		f.books[fr.Topic] = lb
		f.stale[fr.Topic] = false
	case lb == nil || f.stale[fr.Topic]:
		return true // deltas before the resync snapshot
	case d0.U != lb.u+1:
		f.resync(fr.Topic)
		return true
	default:
		lb.apply(d0)
	}
	if f.books[fr.Topic].crossed() {
		f.resync(fr.Topic)
	}
	return true
}

// settle runs after Pause: it drains, resyncs any book whose u differs
// from the reference, and returns once every book equals Book.
func (f *follower) settle(cat, sym string) {
	f.t.Helper()
	deadline := time.Now().Add(4 * waitLong)
	for time.Now().Before(deadline) {
		for i := 0; i < 100000 && f.read(100*time.Millisecond); i++ {
		}
		ok := true
		for _, tp := range f.topics {
			want, err := f.s.Book(cat, sym, f.depth[tp])
			lb := f.books[tp]
			if err != nil || lb == nil {
				ok = false
				if lb != nil || !f.stale[tp] {
					f.resync(tp)
				}
				continue
			}
			b, a := lb.levels()
			if lb.u != want.U || !sameLevels(b, want.Bids) || !sameLevels(a, want.Asks) {
				ok = false
				f.resync(tp) // missed messages (a stall, a drop): resync
			}
		}
		if ok {
			return
		}
	}
	f.t.Fatalf("books did not converge to Book within %v", 4*waitLong)
}

// convergence runs followers against random faults for d, pauses, and
// checks that every follower converges to the reference state.
func convergence(t *testing.T, d time.Duration, clients int, seed uint64) {
	s := startServer(t, Config{Seed: seed, IdleTimeout: time.Minute, Faults: FaultSchedule{Seed: seed, PerSecond: 40, Kinds: []FaultKind{
		FaultDropMessages, FaultDropAfter, FaultStall, FaultGarbage, FaultBinary, FaultOversize,
		FaultSkipDelta, FaultRestart, FaultCrossDelta, FaultFragment, FaultServerPing, FaultSilence,
		FaultSplitTrades, FaultRefuseHandshake, FaultDelayHandshake, FaultSlowReader,
	}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rng := rand.New(rand.NewPCG(seed, 1))
	syms := []string{"BTCUSDT", "ETHUSDT"}
	var fs []*follower
	for i := range clients {
		sym := syms[i%2]
		topics := map[string]int{}
		for _, dp := range []int{1, 50, 200, 1000} {
			if rng.IntN(2) == 0 || dp == 50 {
				topics["orderbook."+itoa(dp)+"."+sym] = dp
			}
		}
		fs = append(fs, newConvergenceFollower(t, ctx, s, "linear", topics))
	}
	// One goroutine per follower; each owns its follower.
	done := make(chan struct{}, len(fs))
	end := time.Now().Add(d)
	for _, f := range fs {
		go func() {
			defer func() { done <- struct{}{} }()
			for time.Now().Before(end) {
				f.read(time.Second)
			}
		}()
	}
	for range fs {
		<-done
	}
	s.Pause()
	st := s.Stats()
	s.mu.Lock()
	s.cfg.Faults.PerSecond = 0 // the schedule's goroutine reads it only at start
	s.mu.Unlock()
	settleStart := time.Now()
	for i, f := range fs {
		sym := syms[i%2]
		f.settle("linear", sym)
	}
	t.Logf("settled in %v", time.Since(settleStart))
	if st.FaultsInjected == 0 {
		t.Fatalf("no faults injected")
	}
	rc, rs := 0, 0
	for _, f := range fs {
		rc += f.reconnects
		rs += f.resyncs
	}
	t.Logf("%d faults %v; %d reconnects, %d resyncs", st.FaultsInjected, st.Faults, rc, rs)
}

// TestConvergence (scaled down; TestNoRaceConvergence runs longer): under
// random faults a client that resyncs on gaps and crosses and reconnects on
// drops always converges to Server.Book.
func TestConvergence(t *testing.T) {
	convergence(t, 800*time.Millisecond, 2, 21)
}
