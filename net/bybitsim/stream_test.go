package bybitsim

import (
	"encoding/json"
	"strings"
	"testing"
)

// bookCase is one category's orderbook topics for one symbol.
type bookCase struct {
	cat, sym string
	depths   []int
}

var bookCases = []bookCase{
	{"linear", "BTCUSDT", []int{1, 50, 200, 1000}},
	{"inverse", "BTCUSD", []int{1, 50, 200, 1000}},
	{"spot", "BTCUSDT", []int{1, 50, 200, 1000}},
	{"option", "BTC-27DEC30-80000-C", []int{25, 100}},
}

func topicsOf(bc bookCase) []string {
	var ts []string
	for _, d := range bc.depths {
		ts = append(ts, "orderbook."+itoa(d)+"."+bc.sym)
	}
	return ts
}

func subscribeMsg(topics ...string) string {
	b, _ := json.Marshal(map[string]any{"op": "subscribe", "req_id": "t", "args": topics})
	return string(b)
}

// bookFollower applies a client's orderbook frames to local books and
// checks every rule a feed handler relies on.
type bookFollower struct {
	t     *testing.T
	books map[string]*localBook
	depth map[string]int
	snaps map[string]int
	last  map[string]bookData
}

func newFollower(t *testing.T) *bookFollower {
	return &bookFollower{t: t, books: map[string]*localBook{}, depth: map[string]int{}, snaps: map[string]int{}, last: map[string]bookData{}}
}

func (bf *bookFollower) follow(topic string, depth int) {
	bf.books[topic] = newLocalBook()
	bf.depth[topic] = depth
}

// take applies one frame; non-book frames are ignored.
func (bf *bookFollower) take(f frame) {
	t := bf.t
	t.Helper()
	lb := bf.books[f.Topic]
	if lb == nil {
		return
	}
	d := decodeBook(t, f)
	depth := bf.depth[f.Topic]
	if f.CTS > f.TS || f.TS == 0 {
		t.Fatalf("%s: cts %d ts %d; want 0 < cts <= ts", f.Topic, f.CTS, f.TS)
	}
	prev, seen := bf.last[f.Topic]
	switch {
	case f.Type == "snapshot":
		if depth == 1 && seen && d.U == prev.U && !(sameLevels(d.B, prev.B) && sameLevels(d.A, prev.A)) {
			t.Fatalf("%s: re-sent snapshot u=%d with different levels", f.Topic, d.U)
		}
		if depth == 1 && seen && d.U != prev.U && d.U != prev.U+1 && d.U != 1 {
			t.Fatalf("%s: level-1 u %d after %d", f.Topic, d.U, prev.U)
		}
		checkSorted(t, d.B, true, f.Topic+" snapshot bids")
		checkSorted(t, d.A, false, f.Topic+" snapshot asks")
		lb.snapshot(d)
		bf.snaps[f.Topic]++
	case f.Type == "delta":
		if depth == 1 {
			t.Fatalf("%s: orderbook.1 sent a delta", f.Topic)
		}
		if !seen {
			t.Fatalf("%s: delta before snapshot", f.Topic)
		}
		if d.U != lb.u+1 {
			t.Fatalf("%s: delta u=%d after u=%d; want +1", f.Topic, d.U, lb.u)
		}
		if d.Seq <= lb.seq {
			t.Fatalf("%s: seq %d after %d; want increasing", f.Topic, d.Seq, lb.seq)
		}
		lb.apply(d)
	default:
		t.Fatalf("%s: type %q", f.Topic, f.Type)
	}
	if d.S == "" || !strings.HasSuffix(f.Topic, "."+d.S) {
		t.Fatalf("%s: data.s %q", f.Topic, d.S)
	}
	if n := len(lb.bids); n > depth {
		t.Fatalf("%s: %d bid levels; want <= %d", f.Topic, n, depth)
	}
	if lb.crossed() {
		t.Fatalf("%s: book crossed at u=%d", f.Topic, d.U)
	}
	if lb.unknownDeletes > 0 {
		t.Fatalf("%s: %d deletes of levels never sent", f.Topic, lb.unknownDeletes)
	}
	bf.last[f.Topic] = d
}

// check compares every followed book with Server.Book.
func (bf *bookFollower) check(s *Server, cat, sym string) {
	t := bf.t
	t.Helper()
	for topic, lb := range bf.books {
		depth := bf.depth[topic]
		want, err := s.Book(cat, sym, depth)
		if err != nil {
			t.Fatalf("Book(%s): %v", topic, err)
		}
		b, a := lb.levels()
		if lb.u != want.U || !sameLevels(b, want.Bids) || !sameLevels(a, want.Asks) {
			t.Fatalf("%s: local u=%d %d/%d levels; Book u=%d %d/%d levels (bids equal %v, asks equal %v)",
				topic, lb.u, len(b), len(a), want.U, len(want.Bids), len(want.Asks), sameLevels(b, want.Bids), sameLevels(a, want.Asks))
		}
		if depth <= 1000 && depth > 1 && len(b) != depth && cat != "option" {
			t.Fatalf("%s: %d bid levels; want a full window of %d", topic, len(b), depth)
		}
	}
}

// drain reads n data messages into the follower.
func drain(cl *client, bf *bookFollower, n int) []frame {
	cl.t.Helper()
	out := make([]frame, 0, n)
	for range n {
		f := decode(cl.t, cl.next())
		bf.take(f)
		out = append(out, f)
	}
	return out
}

// TestBookStreams subscribes every depth of every category, steps the
// generator and replays the frames on local map books: each must equal
// Server.Book, with u+1 continuity, increasing seq, cts <= ts, sorted
// snapshots, no cross, no delete of an unknown level, full windows.
func TestBookStreams(t *testing.T) {
	for _, mode := range []RateMode{RateMax, RateMixed} {
		for _, bc := range bookCases {
			t.Run(bc.cat+"/"+Rate{Mode: mode}.String(), func(t *testing.T) {
				s := pausedServer(t, Config{Seed: 7, Rate: Rate{Mode: mode}, Level1Resend: 1})
				cl := dial(t, s.URL(bc.cat))
				bf := newFollower(t)
				for i, topic := range topicsOf(bc) {
					bf.follow(topic, bc.depths[i])
				}
				cl.send(subscribeMsg(topicsOf(bc)...))
				_, ack := cl.nextAck()
				if ack.Success == nil || !*ack.Success {
					t.Fatalf("subscribe failed: %+v", ack)
				}
				drain(cl, bf, len(bc.depths))
				for range 60 {
					drain(cl, bf, s.Step(5))
				}
				bf.check(s, bc.cat, bc.sym)
				for topic, n := range bf.snaps {
					if n < 1 {
						t.Fatalf("%s: no snapshot", topic)
					}
				}
			})
		}
	}
}

// TestUContinuityAcrossConnections: u is per stream, not per connection. A
// second subscriber's snapshot carries the stream's current u, and both
// connections then receive the same deltas.
func TestUContinuityAcrossConnections(t *testing.T) {
	s := pausedServer(t, Config{Seed: 3, Rate: Rate{Mode: RateMax}})
	const topic = "orderbook.50.ETHUSDT"
	a := dial(t, s.URL("linear"))
	fa := newFollower(t)
	fa.follow(topic, 50)
	a.send(subscribeMsg(topic))
	a.nextAck()
	drain(a, fa, 1)
	drain(a, fa, s.Step(40))
	uA := fa.books[topic].u

	b := dial(t, s.URL("linear"))
	fb := newFollower(t)
	fb.follow(topic, 50)
	b.send(subscribeMsg(topic))
	b.nextAck()
	drain(b, fb, 1)
	if got := fb.books[topic].u; got != uA {
		t.Fatalf("second connection's snapshot u=%d; want the stream's current %d", got, uA)
	}
	n := s.Step(40)
	if n%2 != 0 {
		t.Fatalf("Step delivered %d messages to two identical subscribers; want an even number", n)
	}
	ma, mb := drain(a, fa, n/2), drain(b, fb, n/2)
	for i := range ma {
		if string(ma[i].Data) != string(mb[i].Data) {
			t.Fatalf("message %d differs between connections:\n%s\n%s", i, ma[i].Data, mb[i].Data)
		}
	}
	fa.check(s, "linear", "ETHUSDT")
	fb.check(s, "linear", "ETHUSDT")
}

// TestLevel1Resend: with the top unchanged, orderbook.1 re-sends the same
// snapshot with the same u; a changed top always takes u+1.
func TestLevel1Resend(t *testing.T) {
	s := pausedServer(t, Config{Seed: 11, Rate: Rate{Mode: RateMax}, Level1Resend: 1})
	const topic = "orderbook.1.BTCUSDT"
	cl := dial(t, s.URL("spot"))
	bf := newFollower(t)
	bf.follow(topic, 1)
	cl.send(subscribeMsg(topic))
	cl.nextAck()
	frames := drain(cl, bf, 1)
	for range 100 {
		frames = append(frames, drain(cl, bf, s.Step(1))...)
	}
	same, next := 0, 0
	for i := 1; i < len(frames); i++ {
		p, c := decodeBook(t, frames[i-1]), decodeBook(t, frames[i])
		if c.U == p.U {
			same++
		} else {
			next++
		}
	}
	if same == 0 || next == 0 {
		t.Fatalf("%d re-sends and %d new snapshots in %d frames; want both", same, next, len(frames))
	}
	bf.check(s, "spot", "BTCUSDT")
}
