package bybitsim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// subscribed dials, subscribes and returns the client, its conn_id and a
// follower that has taken the snapshots of the book topics.
func subscribed(t *testing.T, s *Server, cat string, book string, depth int, topics ...string) (*client, string, *bookFollower) {
	t.Helper()
	cl := dial(t, s.URL(cat))
	bf := newFollower(t)
	all := topics
	if book != "" {
		bf.follow(book, depth)
		all = append([]string{book}, topics...)
	}
	cl.send(subscribeMsg(all...))
	_, ack := cl.nextAck()
	if book != "" {
		drain(cl, bf, 1)
	}
	return cl, ack.ConnID, bf
}

// droppedWithoutClose reports that the connection ended without a close
// frame (the client sees 1006), as when Bybit drops a socket.
func droppedWithoutClose(t *testing.T, cl *client) {
	t.Helper()
	err, ok := cl.ended(waitLong)
	if !ok {
		t.Fatalf("connection still open after %v", waitLong)
	}
	if code := websocket.CloseStatus(err); code != -1 {
		t.Fatalf("connection closed with a close frame (%d); want an abrupt drop", code)
	}
}

func TestFaultDropAfterMessages(t *testing.T) {
	s := pausedServer(t, Config{Seed: 1, Rate: Rate{Mode: RateMax}})
	cl, id, bf := subscribed(t, s, "linear", "orderbook.50.BTCUSDT", 50)
	n, err := s.DropAfterMessages(id, 5)
	if err != nil || n != 1 {
		t.Fatalf("DropAfterMessages: %d, %v", n, err)
	}
	if got := s.Step(20); got != 5 {
		t.Fatalf("%d messages queued after the fault; want 5", got)
	}
	drain(cl, bf, 5)
	droppedWithoutClose(t, cl)
	if st := s.Stats(); st.FaultsInjected != 1 || st.Faults["drop-msgs"] != 1 {
		t.Fatalf("fault counters %+v", st.Faults)
	}
}

func TestFaultDropAfter(t *testing.T) {
	s := pausedServer(t, Config{Seed: 1})
	cl, id, _ := subscribed(t, s, "spot", "", 0, "tickers.BTCUSDT")
	_, err := s.DropAfter(id, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("DropAfter: %v", err)
	}
	droppedWithoutClose(t, cl)
}

// TestFaultStall: a stalled connection gets nothing (not even pongs) while
// others carry on; afterwards it receives a fresh snapshot and its book
// converges to Book. The stall is ended by a shorter one, not by the
// clock, so a slow machine cannot end it before the checks.
func TestFaultStall(t *testing.T) {
	s := pausedServer(t, Config{Seed: 2, Rate: Rate{Mode: RateMax}})
	const topic = "orderbook.50.BTCUSDT"
	a, idA, fa := subscribed(t, s, "linear", topic, 50)
	b, _, fb := subscribed(t, s, "linear", topic, 50)
	_, err := s.Stall(idA, time.Hour)
	if err != nil {
		t.Fatalf("Stall: %v", err)
	}
	a.send(`{"op":"ping","req_id":"during"}`)
	for deadline := time.Now().Add(waitLong); s.Stats().PingsStalled != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the ping sent during the stall was not read within %v", waitLong)
		}
	}
	n := s.Step(10)
	drain(b, fb, n) // b alone got everything
	if !a.quiet(50 * time.Millisecond) {
		t.Fatalf("stalled connection received a message")
	}
	if _, err := s.Stall(idA, time.Nanosecond); err != nil { // ends it
		t.Fatalf("Stall: %v", err)
	}
	s.Step(1) // a: the snapshot, then whatever b gets too
	var snap frame
	fromA := 0
	for ok, i := true, 0; ok && i < 10000; i++ {
		var m msg
		m, ok = a.nextMsg(200 * time.Millisecond)
		if ok {
			f := decode(t, m.data)
			if f.Topic == "" {
				t.Fatalf("stalled connection answered a ping sent during the stall: %s", m.data)
			}
			if fromA == 0 {
				snap = f
			}
			fa.take(f)
			fromA++
		}
	}
	if fromA == 0 || snap.Type != "snapshot" {
		t.Fatalf("after the stall: %d messages, first %q; want a snapshot first", fromA, snap.Type)
	}
	drain(a, fa, s.Step(5)/2)
	fa.check(s, "linear", "BTCUSDT")
}

func TestFaultGarbageBinaryOversize(t *testing.T) {
	s := pausedServer(t, Config{Seed: 3})
	cl, id, _ := subscribed(t, s, "linear", "", 0, "tickers.BTCUSDT")
	cl.nextData() // ticker snapshot
	for _, f := range []func() (int, error){
		func() (int, error) { return s.SendGarbage(id) },
		func() (int, error) { return s.SendBinary(id) },
		func() (int, error) { return s.SendOversize(id, 100_000) },
	} {
		n, err := f()
		if err != nil || n != 1 {
			t.Fatalf("inject: %d, %v", n, err)
		}
	}
	m1, _ := cl.nextMsg(waitLong)
	if m1.typ != websocket.MessageText || json.Valid(m1.data) {
		t.Fatalf("garbage: type %v valid JSON %v", m1.typ, json.Valid(m1.data))
	}
	m2, _ := cl.nextMsg(waitLong)
	if m2.typ != websocket.MessageBinary {
		t.Fatalf("binary fault sent type %v", m2.typ)
	}
	m3, _ := cl.nextMsg(waitLong)
	if m3.typ != websocket.MessageText || len(m3.data) != 100_000 || !json.Valid(m3.data) {
		t.Fatalf("oversize: %d bytes, valid %v; want 100000 bytes of JSON", len(m3.data), json.Valid(m3.data))
	}
	cl.send(`{"op":"ping"}`) // the connection is still usable
	if _, f := cl.nextAck(); *f.RetMsg != "pong" {
		t.Fatalf("after faults: %+v", f)
	}
}

// resubscribe unsubscribes and subscribes again and returns the snapshot.
func resubscribe(t *testing.T, cl *client, bf *bookFollower, topic string) frame {
	t.Helper()
	cl.send(`{"op":"unsubscribe","args":["` + topic + `"]}`)
	cl.nextAck()
	cl.send(subscribeMsg(topic))
	cl.nextAck()
	f := cl.nextData()
	bf.take(f)
	return f
}

// TestFaultSkipDelta: the withheld delta leaves a u gap; a resync gives
// exactly Book.
func TestFaultSkipDelta(t *testing.T) {
	s := pausedServer(t, Config{Seed: 4, Rate: Rate{Mode: RateMax}})
	const topic = "orderbook.200.ETHUSDT"
	cl, _, bf := subscribed(t, s, "linear", topic, 200)
	before := bf.books[topic].u
	err := s.SkipDelta("linear", topic)
	if err != nil {
		t.Fatalf("SkipDelta: %v", err)
	}
	s.Step(1) // the skipped one
	if s.Step(1) != 1 {
		t.Fatalf("want one delta after the skipped one")
	}
	d := decodeBook(t, decode(t, cl.next()))
	if d.U != before+2 {
		t.Fatalf("after the skip u=%d; want %d (a gap of one)", d.U, before+2)
	}
	if w, _ := s.Book("linear", "ETHUSDT", 200); w.U != d.U {
		t.Fatalf("Book u=%d; want %d", w.U, d.U)
	}
	f := resubscribe(t, cl, bf, topic)
	if f.Type != "snapshot" {
		t.Fatalf("resubscribe gave %q", f.Type)
	}
	bf.check(s, "linear", "ETHUSDT")
}

// TestFaultRestart: a snapshot with u=1, then 2, 3, ...
func TestFaultRestart(t *testing.T) {
	s := pausedServer(t, Config{Seed: 5, Rate: Rate{Mode: RateMax}})
	const topic = "orderbook.50.BTCUSDT"
	cl, _, bf := subscribed(t, s, "spot", topic, 50)
	err := s.Restart("spot", topic)
	if err != nil {
		t.Fatalf("Restart: %v", err)
	}
	fs := drain(cl, bf, s.Step(3))
	if len(fs) != 3 || fs[0].Type != "snapshot" || decodeBook(t, fs[0]).U != 1 || decodeBook(t, fs[2]).U != 3 {
		t.Fatalf("after restart: %d frames, first %q u=%d", len(fs), fs[0].Type, decodeBook(t, fs[0]).U)
	}
	bf.check(s, "spot", "BTCUSDT")
}

// TestFaultCrossDelta: the bad delta crosses a client's book; Book has its
// u but not its level; a client that resyncs gets Book, and one that drops
// the bad level (keeping its u) converges with the following deltas too.
func TestFaultCrossDelta(t *testing.T) {
	s := pausedServer(t, Config{Seed: 6, Rate: Rate{Mode: RateMax}})
	const topic = "orderbook.50.BTCUSDT"
	cl := dial(t, s.URL("linear"))
	cl.send(subscribeMsg(topic))
	cl.nextAck()
	naive, careful := newLocalBook(), newLocalBook()
	snap := decodeBook(t, cl.nextData())
	naive.snapshot(snap)
	careful.snapshot(snap)
	err := s.CrossDelta("linear", topic)
	if err != nil {
		t.Fatalf("CrossDelta: %v", err)
	}
	s.Step(1)
	bad := decodeBook(t, cl.nextData())
	naive.apply(bad)
	if !naive.crossed() || bad.U != snap.U+1 {
		t.Fatalf("bad delta u=%d (snapshot %d) crossed=%v: %+v", bad.U, snap.U, naive.crossed(), bad)
	}
	if w, _ := s.Book("linear", "BTCUSDT", 50); w.U != bad.U {
		t.Fatalf("Book u=%d; want the bad delta's %d", w.U, bad.U)
	}
	careful.u = bad.U // drop the level, keep the sequence
	for range s.Step(20) {
		d := decodeBook(t, cl.nextData())
		if d.U != careful.u+1 {
			t.Fatalf("u=%d after %d", d.U, careful.u)
		}
		careful.apply(d)
	}
	w, _ := s.Book("linear", "BTCUSDT", 50)
	b, a := careful.levels()
	if careful.u != w.U || !sameLevels(b, w.Bids) || !sameLevels(a, w.Asks) {
		t.Fatalf("book without the bad level differs from Book")
	}
	bf := newFollower(t)
	bf.follow(topic, 50)
	resubscribe(t, cl, bf, topic)
	bf.check(s, "linear", "BTCUSDT")
}

// TestFaultFragment: messages split into continuation frames of the given
// size with a ping between the first two; coder/websocket reassembles them.
func TestFaultFragment(t *testing.T) {
	s := pausedServer(t, Config{Seed: 7, Rate: Rate{Mode: RateMax}})
	rc := rawDial(t, s, "linear")
	id := rc.subscribe("tickers.XRPUSDT")
	rc.frame() // ticker snapshot, not fragmented
	_, err := s.Fragment(id, 64, true)
	if err != nil {
		t.Fatalf("Fragment: %v", err)
	}
	rc.send(subscribeMsg("orderbook.50.XRPUSDT"))
	// The ack and then the snapshot, both in 64-byte fragments.
	var msg []byte
	frames, pings := 0, 0
	for !strings.Contains(string(msg), `"type":"snapshot"`) && frames < 1000 {
		msg = msg[:0]
		for done := false; !done && frames < 1000; {
			f := rc.frame()
			switch {
			case f.op == 9:
				pings++
			case f.op == 1 || f.op == 0:
				if (f.op == 1) != (len(msg) == 0) {
					t.Fatalf("frame op %d out of order", f.op)
				}
				if len(f.payload) > 64 || (!f.fin && len(f.payload) != 64) {
					t.Fatalf("fragment of %d bytes; want 64", len(f.payload))
				}
				msg = append(msg, f.payload...)
				frames++
				done = f.fin
			default:
				t.Fatalf("unexpected op %d", f.op)
			}
		}
		if !json.Valid(msg) {
			t.Fatalf("reassembled message is not JSON: %q", msg)
		}
	}
	if pings != 2 || frames < 10 {
		t.Fatalf("%d fragments, %d pings; want many fragments and one ping per message", frames, pings)
	}
	// coder/websocket reassembles 16-byte fragments into the same stream.
	s2 := pausedServer(t, Config{Seed: 7, Rate: Rate{Mode: RateMax}})
	cl, id2, bf := subscribed(t, s2, "linear", "", 0)
	_, _ = s2.Fragment(id2, 16, true)
	bf.follow("orderbook.200.XRPUSDT", 200)
	cl.send(subscribeMsg("orderbook.200.XRPUSDT"))
	cl.nextAck()
	drain(cl, bf, 1)
	for range 5 {
		drain(cl, bf, s2.Step(1))
	}
	bf.check(s2, "linear", "XRPUSDT")
}

func TestFaultServerPings(t *testing.T) {
	s := pausedServer(t, Config{Seed: 8})
	_, id, _ := subscribed(t, s, "spot", "", 0)
	_, err := s.ServerPings(id, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("ServerPings: %v", err)
	}
	deadline := time.Now().Add(waitLong)
	for st := s.Stats(); st.ServerPingsSent < 3 || st.PongsReceived < 3; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("server pings %d, pongs %d after %v", st.ServerPingsSent, st.PongsReceived, waitLong)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFaultSilence: one topic stops while the connection (other topics,
// pings) carries on; it resumes without a gap.
func TestFaultSilence(t *testing.T) {
	s := pausedServer(t, Config{Seed: 9, Rate: Rate{Mode: RateMax}})
	const topic = "orderbook.50.BTCUSD"
	cl, _, bf := subscribed(t, s, "inverse", topic, 50, "tickers.BTCUSD")
	cl.nextData() // ticker snapshot
	err := s.Silence("inverse", topic, -1)
	if err != nil {
		t.Fatalf("Silence: %v", err)
	}
	for range s.Step(20) {
		if f := decode(t, cl.next()); f.Topic == topic {
			t.Fatalf("silenced topic sent %q", f.Type)
		}
	}
	cl.send(`{"op":"ping"}`)
	if _, f := cl.nextAck(); *f.RetMsg != "pong" {
		t.Fatalf("ping during silence: %+v", f)
	}
	_ = s.Silence("inverse", topic, 0)
	book := 0
	for range s.Step(5) {
		f := decode(t, cl.next())
		bf.take(f) // checks u continuity
		if f.Topic == topic {
			book++
		}
	}
	if book == 0 {
		t.Fatalf("topic did not resume")
	}
	bf.check(s, "inverse", "BTCUSD")
}

// TestFaultSplitTrades: one batch in two frames with one trade repeated.
func TestFaultSplitTrades(t *testing.T) {
	s := pausedServer(t, Config{Seed: 10})
	cl, _, _ := subscribed(t, s, "linear", "", 0, "publicTrade.BTCUSDT")
	err := s.SplitTrades("linear", "publicTrade.BTCUSDT")
	if err != nil {
		t.Fatalf("SplitTrades: %v", err)
	}
	var prev []tradeItem
	for range 500 {
		for range s.Step(1) {
			trs := decodeTrades(t, cl.nextData())
			if prev != nil && trs[0].I == prev[len(prev)-1].I {
				sent, _ := s.Trades("linear", "BTCUSDT")
				for i := 1; i < len(sent); i++ {
					if sent[i].ID == sent[i-1].ID {
						t.Fatalf("Trades() holds the repeat")
					}
				}
				return
			}
			prev = trs
		}
	}
	t.Fatalf("no repeated trade across frames in 500 steps")
}

func TestFaultRefuseAndDelayHandshake(t *testing.T) {
	s := pausedServer(t, Config{Seed: 11})
	err := s.RefuseHandshakes(2, 403)
	if err != nil {
		t.Fatalf("RefuseHandshakes: %v", err)
	}
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		c, resp, err := websocket.Dial(ctx, s.URL("linear"), nil)
		cancel()
		if err == nil {
			_ = c.CloseNow()
			t.Fatalf("attempt %d: handshake succeeded; want 403", i)
		}
		if resp == nil || resp.StatusCode != 403 {
			t.Fatalf("attempt %d: %v; want HTTP 403", i, err)
		}
	}
	dial(t, s.URL("linear"))
	err = s.DelayHandshakes(1, 80*time.Millisecond)
	if err != nil {
		t.Fatalf("DelayHandshakes: %v", err)
	}
	start := time.Now()
	dial(t, s.URL("linear"))
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Fatalf("delayed handshake took %v; want >= 80ms", el)
	}
	deadline := time.Now().Add(waitLong) // the server registers after the client's handshake returns
	for st := s.Stats(); st.HandshakesRefused != 2 || st.HandshakesDelayed != 1 || st.ConnsAccepted != 2; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFaultRejectTopic(t *testing.T) {
	s := pausedServer(t, Config{Seed: 12})
	err := s.RejectTopic("linear", "tickers.BTCUSDT", 2)
	if err != nil {
		t.Fatalf("RejectTopic: %v", err)
	}
	cl := dial(t, s.URL("linear"))
	for i := range 3 {
		cl.send(subscribeMsg("tickers.BTCUSDT"))
		_, f := cl.nextAck()
		if ok := i == 2; *f.Success != ok || (!ok && *f.RetMsg != "error:handler not found,topic:tickers.BTCUSDT") {
			t.Fatalf("attempt %d: %+v", i, f)
		}
	}
}

// TestFaultSlowReader: a client that reads nothing, with a small kernel
// send buffer, is disconnected once its queue passes QueueBytes; the
// generator and the other clients carry on.
func TestFaultSlowReader(t *testing.T) {
	s := pausedServer(t, Config{Seed: 13, Rate: Rate{Mode: RateMixed}, QueueBytes: 64 << 10})
	rc := rawDial(t, s, "spot")
	id := rc.subscribe("orderbook.1000.BTCUSDT")
	n, err := s.SlowReader(id, 4096)
	if err != nil || n != 1 {
		t.Fatalf("SlowReader: %d, %v", n, err)
	}
	other, _, bf := subscribed(t, s, "spot", "orderbook.50.BTCUSDT", 50)
	deadline := time.Now().Add(waitLong)
	for s.Stats().SlowClientDrops == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("slow client not dropped within %v", waitLong)
		}
		s.Step(20)
		for ok, i := true, 0; ok && i < 10000; i++ {
			var m msg
			if m, ok = other.nextMsg(time.Millisecond); ok {
				bf.take(decode(t, m.data))
			}
		}
	}
	for len(s.Conns()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections; want the slow one gone", len(s.Conns()))
		}
		time.Sleep(time.Millisecond)
	}
}

// TestIdleTimeout: no ping and no data for IdleTimeout closes the socket
// without a close frame; pings keep it open. The pinging client pings until
// the idle one is gone, with gaps far below IdleTimeout even on a busy
// machine.
func TestIdleTimeout(t *testing.T) {
	s := pausedServer(t, Config{Seed: 14, IdleTimeout: time.Second})
	alive := dial(t, s.URL("linear"))
	idle := dial(t, s.URL("linear"))
	deadline := time.Now().Add(4 * waitLong)
	for s.Stats().IdleCloses == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("idle connection not closed within %v", 4*waitLong)
		}
		alive.send(`{"op":"ping"}`)
		alive.nextAck()
		time.Sleep(20 * time.Millisecond)
	}
	droppedWithoutClose(t, idle)
	if _, ended := alive.ended(0); ended {
		t.Fatalf("pinging connection was closed")
	}
	if got := s.Stats().IdleCloses; got != 1 {
		t.Fatalf("IdleCloses %d; want 1", got)
	}
}

// TestFaultSchedule: random faults at a high rate against live clients;
// the Server keeps serving and closes cleanly.
func TestFaultSchedule(t *testing.T) {
	s := startServer(t, Config{Seed: 15, Faults: FaultSchedule{Seed: 3, PerSecond: 300}})
	for _, cat := range []string{"linear", "spot"} {
		cl := dial(t, s.URL(cat))
		cl.send(subscribeMsg("orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT"))
	}
	deadline := time.Now().Add(waitLong)
	for s.Stats().FaultsInjected < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("%d faults injected in %v", s.Stats().FaultsInjected, waitLong)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = s.Close()
	if st := s.Stats(); st.ConnsOpen != 0 {
		t.Fatalf("%d connections open after Close", st.ConnsOpen)
	}
}

func TestParseFault(t *testing.T) {
	f := func(spec string, want Fault) {
		t.Helper()
		got, err := ParseFault(spec)
		if err != nil || got != want {
			t.Fatalf("ParseFault(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
		if back, _ := ParseFault(got.String()); back != got {
			t.Fatalf("String() %q does not parse back", got.String())
		}
	}
	f("stall,d=5s", Fault{Kind: FaultStall, D: 5 * time.Second})
	f("refuse,n=3,status=403", Fault{Kind: FaultRefuseHandshake, N: 3, Status: 403})
	f("skip-delta,cat=linear,topic=orderbook.50.BTCUSDT", Fault{Kind: FaultSkipDelta, Category: "linear", Topic: "orderbook.50.BTCUSDT"})
	f("fragment,size=16,ping=true,conn=abc", Fault{Kind: FaultFragment, Size: 16, Ping: true, Conn: "abc"})
	for _, bad := range []string{"", "nope", "stall,d", "stall,d=x", "stall,zz=1", "drop-msgs,n=z"} {
		if _, err := ParseFault(bad); !errors.Is(err, ErrBadFault) {
			t.Fatalf("ParseFault(%q): %v; want ErrBadFault", bad, err)
		}
	}
	fs, err := ParseFaultSchedule("7:0.5")
	if err != nil || fs.Seed != 7 || fs.PerSecond != 0.5 {
		t.Fatalf("ParseFaultSchedule: %+v, %v", fs, err)
	}
	for _, bad := range []string{"7", "x:1", "7:0", "7:-1", "7:x"} {
		if _, err := ParseFaultSchedule(bad); err == nil {
			t.Fatalf("ParseFaultSchedule(%q) accepted", bad)
		}
	}
}

func TestInjectErrors(t *testing.T) {
	s := pausedServer(t, Config{Seed: 16})
	for _, f := range []Fault{
		{Kind: FaultSkipDelta, Category: "linear", Topic: "tickers.BTCUSDT"},
		{Kind: FaultSkipDelta, Category: "nope", Topic: "orderbook.50.BTCUSDT"},
		{Kind: FaultRestart, Category: "linear", Topic: "orderbook.50.NOPE"},
		{Kind: FaultSplitTrades, Category: "linear", Topic: "orderbook.50.BTCUSDT"},
		{Kind: FaultStall, D: 0},
		{Kind: FaultDropMessages, N: 0},
		{Kind: FaultStall, D: time.Second, Conn: "no-such-conn"},
		{Kind: FaultRefuseHandshake, Status: 500},
		{Kind: FaultOversize, Size: -1},
		{Kind: numFaultKinds},
	} {
		if _, err := s.Inject(f); !errors.Is(err, ErrBadFault) {
			t.Fatalf("Inject(%s): %v; want ErrBadFault", f, err)
		}
	}
	if n, err := s.Stall("", time.Second); n != 0 || err != nil {
		t.Fatalf("connection fault with no connections: %d, %v; want 0, nil", n, err)
	}
}

// A refused handshake must not spend a pending delay: the delay belongs to
// the next handshake the server accepts.
func TestRefusalDoesNotSpendDelay(t *testing.T) {
	s, err := Start(Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RefuseHandshakes(1, http.StatusTooManyRequests); err != nil {
		t.Fatal(err)
	}
	if err := s.DelayHandshakes(1, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	get := func() int {
		t.Helper()
		resp, err := client.Get(s.RESTURL() + "/v5/public/linear")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusTooManyRequests {
		t.Fatalf("first handshake: got %d; want 429", code)
	}
	if st := s.Stats(); st.HandshakesRefused != 1 || st.HandshakesDelayed != 0 {
		t.Fatalf("after the refusal: refused %d delayed %d; want 1 and 0", st.HandshakesRefused, st.HandshakesDelayed)
	}
	get() // not a WebSocket request: delayed, then rejected by the upgrade
	if st := s.Stats(); st.HandshakesDelayed != 1 {
		t.Errorf("second handshake: delayed %d; want 1", st.HandshakesDelayed)
	}
}

// TestFaultMute: a muted topic is acked on subscribe but sends nothing,
// not even the snapshot a new subscriber gets (unlike a silenced one);
// lifted, it talks again.
func TestFaultMute(t *testing.T) {
	s := pausedServer(t, Config{Seed: 13, Rate: Rate{Mode: RateMax}})
	const muted, silenced = "orderbook.50.BTCUSD", "orderbook.1.BTCUSD"
	if err := s.Mute("inverse", muted, -1); err != nil {
		t.Fatalf("Mute: %v", err)
	}
	if err := s.Silence("inverse", silenced, -1); err != nil {
		t.Fatalf("Silence: %v", err)
	}
	cl := dial(t, s.URL("inverse"))
	cl.send(subscribeMsg("tickers.BTCUSD", muted, silenced))
	if _, f := cl.nextAck(); !*f.Success {
		t.Fatalf("subscribe: %+v", f)
	}
	snaps := 0
	for range 2 { // the ticker's and the silenced book's snapshots
		switch f := decode(t, cl.next()); f.Topic {
		case muted:
			t.Fatalf("muted topic sent %q on subscribe", f.Type)
		case silenced:
			snaps++
		}
	}
	if snaps != 1 {
		t.Fatalf("silenced topic: got %d snapshots on subscribe; want 1", snaps)
	}
	for range s.Step(10) {
		if f := decode(t, cl.next()); f.Topic == muted || f.Topic == silenced {
			t.Fatalf("%s sent %q while quiet", f.Topic, f.Type)
		}
	}
	if err := s.Mute("inverse", muted, 0); err != nil {
		t.Fatalf("Mute(0): %v", err)
	}
	got := 0
	for range s.Step(5) {
		if f := decode(t, cl.next()); f.Topic == muted {
			got++
		}
	}
	if got == 0 {
		t.Fatal("muted topic did not resume after the mute was lifted")
	}
}
