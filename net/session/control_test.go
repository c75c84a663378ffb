package session

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// requestLog is a WebSocket server on 127.0.0.1 that records the text
// messages a client sends and answers nothing, so a test can play the
// exchange's answers itself, in any shape and order.
type requestLog struct {
	url  string
	mu   sync.Mutex
	reqs []string
}

func newRequestLog(t *testing.T) *requestLog {
	t.Helper()
	l, stop, err := listenRequestLog()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return l
}

// newProcessRequestLog is a requestLog that lives as long as the process
// (shared by fuzz inputs). It panics if it cannot listen.
func newProcessRequestLog() *requestLog {
	l, _, err := listenRequestLog()
	if err != nil {
		panic(err)
	}
	return l
}

// maxLogged bounds what a requestLog keeps (fuzzing sends millions).
const maxLogged = 10000

func listenRequestLog() (*requestLog, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	l := &requestLog{url: "ws://" + ln.Addr().String() + "/v5/public/x"}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if _, err := ws.Upgrade(c); err != nil {
					return
				}
				for {
					h, err := ws.ReadHeader(c)
					if err != nil || h.OpCode == ws.OpClose || h.Length > 1<<16 {
						return
					}
					p := make([]byte, h.Length)
					if _, err := io.ReadFull(c, p); err != nil {
						return
					}
					if h.Masked {
						ws.Cipher(p, h.Mask, 0)
					}
					if h.OpCode == ws.OpText {
						l.mu.Lock()
						if len(l.reqs) < maxLogged {
							l.reqs = append(l.reqs, string(p))
						}
						l.mu.Unlock()
					}
				}
			})
		}
	})
	return l, func() { ln.Close(); wg.Wait() }, nil
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

// waitN waits for n requests and returns them.
func (l *requestLog) waitN(t *testing.T, n int) []string {
	t.Helper()
	waitFor(t, 5*time.Second, "requests arrive", func() bool { return len(l.all()) >= n })
	got := l.all()
	if len(got) != n {
		t.Fatalf("got %d requests; want %d:\n%s", len(got), n, strings.Join(got, "\n"))
	}
	return got
}

// controlRig drives a control goroutine's logic step by step: requests go
// to a requestLog over a real connection, answers are fed through the
// reader's handle as if they had arrived on the socket.
type controlRig struct {
	t    *testing.T
	s    *Session
	c    *control
	log  *requestLog
	logs *logBuffer // the session's log lines
	now  int64
}

func newControlRig(t *testing.T, category string, topics ...string) *controlRig {
	t.Helper()
	return newControlRigWith(t, category, nil, topics...)
}

// newControlRigWith is newControlRig with mod applied to the session's
// Config before New.
func newControlRigWith(t *testing.T, category string, mod func(*Config), topics ...string) *controlRig {
	t.Helper()
	names := map[string]bool{}
	for _, tp := range topics {
		parts := strings.Split(tp, ".")
		sym := parts[len(parts)-1]
		if category == "option" && parts[0] == "publicTrade" {
			sym += "-27DEC30-1-C"
		}
		names[sym] = true
	}
	var list []string
	for n := range names {
		list = append(list, n)
	}
	rl := newRequestLog(t)
	cfg := Config{
		Category:    category,
		URL:         rl.url,
		Topics:      topics,
		Symbols:     testSymbols(t, list...),
		Sink:        newRingSink(64),
		AckTimeout:  time.Second,
		BackoffBase: 100 * time.Millisecond,
		BackoffCap:  time.Second,
	}
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := wsconn.Dial(context.Background(), rl.url, wsconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(wsconn.CloseNormal, "") })
	r := &controlRig{t: t, s: s, c: newControl(s, conn, false), log: rl, logs: logs, now: wsconn.Nanotime()}
	if !r.c.start(r.now) {
		t.Fatal("start failed")
	}
	return r
}

// answer feeds frame through the reader and runs a control step at the
// rig's clock advanced by d.
func (r *controlRig) answer(frame string, d time.Duration) {
	r.t.Helper()
	if frame != "" {
		r.s.rd.handle(wsconn.Message{Op: wsconn.OpText, Payload: []byte(frame), RecvNs: r.now})
		r.s.rd.flush()
	}
	r.now += int64(d)
	if !r.c.step(r.now) {
		r.t.Fatal("control step closed the connection")
	}
}

// ackPending answers every pending request with success, oldest first,
// and the requests those answers cause (the subscribe half of a
// resubscribe), without moving the clock.
func (r *controlRig) ackPending() {
	r.t.Helper()
	for range 1000 {
		if len(r.c.order) == 0 {
			return
		}
		n := r.c.order[0]
		req := r.c.pending[n]
		if req == nil {
			r.c.order = r.c.order[1:]
			continue
		}
		op, prefix := "subscribe", "s-"
		if req.op == parse.OpUnsubscribe {
			op, prefix = "unsubscribe", "u-"
		}
		r.answer(`{"success":true,"ret_msg":"","conn_id":"x","req_id":"`+prefix+strconv.FormatInt(n, 10)+`","op":"`+op+`"}`, 0)
	}
	r.t.Fatal("ackPending: requests keep coming")
}

func (r *controlRig) state(topic string) uint8 {
	i, _ := r.s.TopicIndexOf(topic)
	return r.c.st[i].state
}

func TestAckSpotWithoutReqID(t *testing.T) {
	var topics []string
	for _, sym := range []string{"AUSDT", "BUSDT", "CUSDT"} {
		for _, d := range []string{"1", "50", "200", "1000"} {
			topics = append(topics, "orderbook."+d+"."+sym)
		}
	}
	r := newControlRig(t, "spot", topics...)
	reqs := r.log.waitN(t, 2)
	if !strings.Contains(reqs[0], `"req_id":"s-1"`) || strings.Count(reqs[0], "orderbook.") != 10 || strings.Count(reqs[1], "orderbook.") != 2 {
		t.Fatalf("got requests\n%s\nwant s-1 with 10 topics, then 2", strings.Join(reqs, "\n"))
	}
	// Spot may leave req_id out: answers match requests in order.
	r.answer(`{"success":true,"ret_msg":"subscribe","conn_id":"d9avrj8i70nu0j2a80n0-9cfc4","op":"subscribe"}`, 0)
	if got := r.s.Stats().Subscribed; got != 10 {
		t.Fatalf("after the first ack: got %d subscribed; want 10", got)
	}
	r.answer(`{"success":true,"ret_msg":"subscribe","conn_id":"d9avrj8i70nu0j2a80n0-9cfc4","op":"subscribe"}`, 0)
	if got := r.s.Stats().Subscribed; got != 12 {
		t.Fatalf("after the second ack: got %d subscribed; want 12", got)
	}
	// An ack nobody waits for is ignored.
	r.answer(`{"success":true,"ret_msg":"subscribe","conn_id":"x","req_id":"s-99","op":"subscribe"}`, 0)
	if got := r.s.Stats().Subscribed; got != 12 {
		t.Fatalf("after a stray ack: got %d subscribed; want 12", got)
	}
}

func TestAckOptionCommandResp(t *testing.T) {
	topics := []string{"orderbook.25.BTC-27DEC30-1-C", "tickers.BTC-27DEC30-1-C", "publicTrade.BTC"}
	r := newControlRig(t, "option", topics...)
	r.log.waitN(t, 1)
	r.answer(`{"success":false,"conn_id":"461834fffe84142f-00000001-000c2ffe-1fd4e17e7fe53c8b-2c14741e","data":{"failTopics":["tickers.BTC-27DEC30-1-C"],"successTopics":["orderbook.25.BTC-27DEC30-1-C","publicTrade.BTC"]},"type":"COMMAND_RESP"}`, 0)
	if got := r.s.Stats().Subscribed; got != 2 {
		t.Fatalf("got %d subscribed; want 2", got)
	}
	if got := r.s.Stats().SubscribeFailures; got != 1 {
		t.Fatalf("got %d failures; want 1", got)
	}
	if got := r.state(topics[1]); got != stRetry {
		t.Fatalf("failed topic: got state %d; want stRetry", got)
	}
	// After the backoff (at most BackoffBase for the first failure) the
	// failed topic alone is asked again.
	r.answer("", 100*time.Millisecond)
	reqs := r.log.waitN(t, 2)
	if !strings.Contains(reqs[1], `"args":["tickers.BTC-27DEC30-1-C"]`) {
		t.Fatalf("retry: got %s; want the failed topic alone", reqs[1])
	}
	r.answer(`{"success":true,"conn_id":"x","data":{"failTopics":[],"successTopics":["tickers.BTC-27DEC30-1-C"]},"type":"COMMAND_RESP"}`, 0)
	if got := r.s.Stats().Subscribed; got != 3 {
		t.Fatalf("got %d subscribed; want 3", got)
	}
}

func TestAckFailureAndAlreadySubscribed(t *testing.T) {
	topics := []string{"orderbook.50.AUSDT", "tickers.AUSDT", "kline.1.AUSDT"}
	r := newControlRig(t, "linear", topics...)
	r.log.waitN(t, 1)
	// Bybit rejects the request naming one topic: all three are retried
	// on the backoff schedule, each alone.
	r.answer(`{"success":false,"ret_msg":"Invalid symbol :[tickers.AUSDT]","conn_id":"x","req_id":"s-1","op":"subscribe"}`, 0)
	for _, tp := range topics {
		if got := r.state(tp); got != stRetry {
			t.Fatalf("%s: got state %d; want stRetry", tp, got)
		}
	}
	r.answer("", 100*time.Millisecond)
	reqs := r.log.waitN(t, 4)
	for i, tp := range topics {
		if !strings.Contains(reqs[1+i], `"args":["`+tp+`"]`) {
			t.Errorf("retry %d: got %s; want %s alone", i, reqs[1+i], tp)
		}
	}
	// "already subscribed" is success.
	for i := range topics {
		id := []string{"s-2", "s-3", "s-4"}[i]
		r.answer(`{"success":false,"ret_msg":"error:already subscribed,topic:`+topics[i]+`","conn_id":"x","req_id":"`+id+`","op":"subscribe"}`, 0)
	}
	if got := r.s.Stats().Subscribed; got != 3 {
		t.Fatalf("got %d subscribed; want 3", got)
	}
	if got := r.s.Stats().SubscribeFailures; got != 1 {
		t.Fatalf("got %d failures; want 1 (already subscribed is not one)", got)
	}
}

func TestAckAlreadySubscribedInBatch(t *testing.T) {
	topics := []string{"orderbook.50.AUSDT", "tickers.AUSDT", "kline.1.AUSDT"}
	r := newControlRig(t, "linear", topics...)
	r.log.waitN(t, 1)
	r.answer(`{"success":false,"ret_msg":"error:already subscribed,topic:tickers.AUSDT","conn_id":"x","req_id":"s-1","op":"subscribe"}`, 0)
	if got := r.state(topics[1]); got != stSubscribed {
		t.Fatalf("named topic: got state %d; want stSubscribed", got)
	}
	// The others' fate is unknown: asked again at once, singly.
	r.answer("", 0)
	reqs := r.log.waitN(t, 3)
	if !strings.Contains(reqs[1], `["orderbook.50.AUSDT"]`) || !strings.Contains(reqs[2], `["kline.1.AUSDT"]`) {
		t.Fatalf("got\n%s\nwant single retries of the other two", strings.Join(reqs, "\n"))
	}
	if got := r.s.Stats().SubscribeFailures; got != 0 {
		t.Fatalf("got %d failures; want 0", got)
	}
}

func TestResyncRequests(t *testing.T) {
	topics := []string{"orderbook.50.AUSDT", "orderbook.50.BUSDT"}
	r := newControlRig(t, "linear", topics...)
	r.log.waitN(t, 1)
	r.answer(`{"success":true,"ret_msg":"","conn_id":"x","req_id":"s-1","op":"subscribe"}`, 0)
	if !r.s.Resync(topics[1]) {
		t.Fatal("Resync: got false")
	}
	r.answer("", 0)
	reqs := r.log.waitN(t, 2)
	if !strings.Contains(reqs[1], `{"op":"unsubscribe","req_id":"u-2","args":["orderbook.50.BUSDT"]}`) {
		t.Fatalf("got %s; want an unsubscribe of the topic alone", reqs[1])
	}
	if got := r.s.Stats().Subscribed; got != 1 {
		t.Fatalf("during the resync: got %d subscribed; want 1", got)
	}
	// While it is under way, another request for it is dropped.
	if !r.s.Resync(topics[1]) {
		t.Fatal("Resync during a resync: got false; want true (accepted, then dropped)")
	}
	r.answer("", 0)
	if r.s.resyncFlag[1].Load() {
		t.Fatal("a resync request during a resync stayed pending")
	}
	r.answer(`{"success":true,"ret_msg":"","conn_id":"x","req_id":"u-2","op":"unsubscribe"}`, 0)
	reqs = r.log.waitN(t, 3)
	if !strings.Contains(reqs[2], `{"op":"subscribe","req_id":"s-3","args":["orderbook.50.BUSDT"]}`) {
		t.Fatalf("got %s; want the subscribe half", reqs[2])
	}
	r.answer(`{"success":true,"ret_msg":"","conn_id":"x","req_id":"s-3","op":"subscribe"}`, 0)
	if got := r.s.Stats().Subscribed; got != 2 {
		t.Fatalf("after the resync: got %d subscribed; want 2", got)
	}
	// Within ResyncInterval (1 s) a second request waits.
	r.s.Resync(topics[1])
	r.answer("", 500*time.Millisecond)
	if got := len(r.log.all()); got != 3 {
		t.Fatalf("resync within ResyncInterval: got %d requests; want 3", got)
	}
	r.answer("", 600*time.Millisecond)
	r.log.waitN(t, 4)
}

func TestAckTimeout(t *testing.T) {
	r := newControlRig(t, "linear", "tickers.AUSDT")
	r.log.waitN(t, 1)
	r.answer("", 900*time.Millisecond)
	if got := r.s.Stats().SubscribeFailures; got != 0 {
		t.Fatalf("before AckTimeout: got %d failures; want 0", got)
	}
	r.answer("", 200*time.Millisecond)
	if got := r.s.Stats().SubscribeFailures; got != 1 {
		t.Fatalf("after AckTimeout: got %d failures; want 1", got)
	}
	// A late ack for the timed-out request changes nothing.
	r.answer(`{"success":true,"ret_msg":"","conn_id":"x","req_id":"s-1","op":"subscribe"}`, 0)
	if got := r.state("tickers.AUSDT"); got != stRetry {
		t.Fatalf("got state %d; want stRetry", got)
	}
}

func TestPongMatching(t *testing.T) {
	r := newControlRig(t, "linear", "tickers.AUSDT")
	s := r.s
	// A ping is due after PingInterval.
	r.answer("", s.cfg.PingInterval)
	reqs := r.log.waitN(t, 2)
	if reqs[1] != `{"op":"ping","req_id":"hb-1"}` {
		t.Fatalf("got %s; want the first heartbeat", reqs[1])
	}
	sent := s.pingSentNs.Load()
	// A pong for another ping does not answer this one.
	r.s.rd.handle(wsconn.Message{Op: wsconn.OpText, Payload: []byte(`{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"hb-0","op":"ping"}`), RecvNs: sent + 5})
	if s.pingSentNs.Load() == 0 {
		t.Fatal("a pong for hb-0 answered hb-1")
	}
	// Option's pong carries no req_id: it answers the ping outstanding.
	r.s.rd.handle(wsconn.Message{Op: wsconn.OpText, Payload: []byte(`{"op":"pong","args":["1733011200123"]}`), RecvNs: sent + 7})
	if s.pingSentNs.Load() != 0 || s.Stats().PongRTT != 7 {
		t.Fatalf("got outstanding %d, RTT %v; want answered, 7ns", s.pingSentNs.Load(), s.Stats().PongRTT)
	}
	if got := s.Stats().Pongs; got != 2 {
		t.Fatalf("got %d pongs; want 2", got)
	}
	// Unknown ops are counted.
	r.s.rd.handle(wsconn.Message{Op: wsconn.OpText, Payload: []byte(`{"success":true,"ret_msg":"","conn_id":"x","op":"auth"}`)})
	if got := s.Stats().UnknownOps; got != 1 {
		t.Fatalf("got %d unknown ops; want 1", got)
	}
}

// TestPongTimeoutKills: an unanswered ping closes the connection after
// PongTimeout.
func TestPongTimeoutKills(t *testing.T) {
	r := newControlRig(t, "linear", "tickers.AUSDT")
	r.answer("", r.s.cfg.PingInterval)
	r.log.waitN(t, 2)
	r.now += int64(r.s.cfg.PongTimeout) + 1
	if r.c.step(r.now) {
		t.Fatal("step after PongTimeout: got true; want the connection closed")
	}
	if r.c.reason != errPongTimeout {
		t.Fatalf("reason: got %v; want errPongTimeout", r.c.reason)
	}
}

// TestSilenceMarksTopic: a topic silent past its threshold while another
// keeps talking is resubscribed, reported by TopicState as silent and not
// subscribed, and passed to Sink.Silent before the resubscribe's answers
// are handled; its next message clears the silence.
func TestSilenceMarksTopic(t *testing.T) {
	topics := []string{"orderbook.50.AUSDT", "tickers.BUSDT"}
	r := newControlRigWith(t, "linear", func(c *Config) {
		c.Silence = func(topic string) time.Duration {
			if strings.HasPrefix(topic, "orderbook.") {
				return 2 * time.Second
			}
			return 0
		}
	}, topics...)
	sink := r.s.cfg.Sink.(*ringSink)
	const (
		book   = `{"topic":"orderbook.50.AUSDT","type":"snapshot","ts":1700000000123,"data":{"s":"AUSDT","b":[["1.5","2"]],"a":[["1.6","3"]],"u":1,"seq":7},"cts":1700000000120}`
		ticker = `{"topic":"tickers.BUSDT","type":"delta","data":{"symbol":"BUSDT","bid1Price":"2.1"},"cs":1,"ts":1700000000123}`
	)
	r.log.waitN(t, 1)
	r.answer(`{"success":true,"ret_msg":"","conn_id":"x","req_id":"s-1","op":"subscribe"}`, 0)
	if got := r.s.TopicState(0); !got.Subscribed || got.Silent {
		t.Fatalf("after the ack: got %+v; want subscribed, not silent", got)
	}
	r.answer(book, 0)
	for range 4 {
		r.answer(ticker, 500*time.Millisecond)
	}
	if got := r.s.TopicState(0); !got.Subscribed || got.Silent {
		t.Fatalf("2 s after the book's last message: got %+v; want subscribed, not silent", got)
	}
	// Silent past 2 s, and something else arrived after that point.
	r.answer(ticker, 200*time.Millisecond)
	r.answer(ticker, 0)
	reqs := r.log.waitN(t, 2)
	if !strings.Contains(reqs[1], `"op":"unsubscribe","req_id":"u-2","args":["orderbook.50.AUSDT"]`) {
		t.Fatalf("got %s; want the silent topic unsubscribed alone", reqs[1])
	}
	if got := r.s.TopicState(0); got.Subscribed || !got.Silent {
		t.Fatalf("silent topic: got %+v; want silent, not subscribed", got)
	}
	if got := r.s.TopicState(1); !got.Subscribed || got.Silent {
		t.Fatalf("talking topic: got %+v; want subscribed, not silent", got)
	}
	if got := sink.silent(); len(got) != 0 {
		t.Fatalf("Sink.Silent before the reader handled another message: got %d calls; want 0", len(got))
	}
	// The reader passes the silence on before it handles the next frame.
	r.answer(`{"success":true,"ret_msg":"","conn_id":"x","req_id":"u-2","op":"unsubscribe"}`, 0)
	got := sink.silent()
	id, _ := r.s.cfg.Symbols.Lookup([]byte("AUSDT"))
	if len(got) != 1 || got[0].Class != parse.ClassData || got[0].Kind != parse.KindBook || got[0].Depth != 50 || got[0].Sym != id {
		t.Fatalf("Sink.Silent calls: got %+v; want one for the AUSDT depth-50 book", got)
	}
	reqs = r.log.waitN(t, 3)
	if !strings.Contains(reqs[2], `"op":"subscribe","req_id":"s-3","args":["orderbook.50.AUSDT"]`) {
		t.Fatalf("got %s; want the subscribe half", reqs[2])
	}
	r.answer(`{"success":true,"ret_msg":"","conn_id":"x","req_id":"s-3","op":"subscribe"}`, 0)
	if got := r.s.TopicState(0); !got.Subscribed || !got.Silent {
		t.Fatalf("resubscribed, no data yet: got %+v; want subscribed and still silent", got)
	}
	r.answer(book, 0)
	if got := r.s.TopicState(0); !got.Subscribed || got.Silent {
		t.Fatalf("after fresh data: got %+v; want subscribed, not silent", got)
	}
	if got := len(sink.silent()); got != 1 {
		t.Fatalf("got %d Sink.Silent calls; want 1", got)
	}
}

// TestQuietConnectionIsNotSilence: a connection on which nothing at all
// arrives (the simulator's stall) is the heartbeat's business: past every
// topic's silence threshold no topic is resubscribed, and the unanswered
// ping closes the connection after PongTimeout.
func TestQuietConnectionIsNotSilence(t *testing.T) {
	topics := []string{"orderbook.50.AUSDT", "orderbook.1.BUSDT"}
	r := newControlRigWith(t, "linear", func(c *Config) {
		c.PingInterval = 100 * time.Millisecond
		c.PongTimeout = 600 * time.Millisecond
		c.Silence = func(string) time.Duration { return 200 * time.Millisecond }
	}, topics...)
	r.ackPending()
	// Silence counts from the ack; then nothing arrives, pongs included.
	// (The ping's send time is read from the real clock, a moment after
	// the rig's: stay clear of PongTimeout until the last step.)
	for range 11 {
		r.answer("", 50*time.Millisecond)
	}
	if got := r.s.Stats().Silences; got != 0 {
		t.Fatalf("after 550 ms of a quiet connection: got %d silence resubscribes; want 0", got)
	}
	for i := range topics {
		if st := r.s.TopicState(i); !st.Subscribed || st.Silent {
			t.Fatalf("%s: got %+v; want subscribed, not silent", topics[i], st)
		}
	}
	if r.s.pingSentNs.Load() == 0 {
		t.Fatal("no ping outstanding")
	}
	// The ping went out at +100 ms; PongTimeout later the connection is
	// declared dead.
	r.now += int64(time.Second)
	if r.c.step(r.now) {
		t.Fatal("step 1.55 s into a quiet connection: got true; want it closed for the pong timeout")
	}
	if got := r.s.Stats().Silences; got != 0 {
		t.Fatalf("got %d silence resubscribes; want 0", got)
	}
	if r.c.reason != errPongTimeout {
		t.Fatalf("reason: got %v; want errPongTimeout", r.c.reason)
	}
}

// TestResyncRateFakeClock: Resync called every millisecond for a second is
// served once per ResyncInterval: at once, then at +250, +500 and +750 ms.
func TestResyncRateFakeClock(t *testing.T) {
	const topic = "orderbook.50.AUSDT"
	r := newControlRigWith(t, "linear", func(c *Config) { c.ResyncInterval = 250 * time.Millisecond }, topic)
	r.ackPending()
	for range 1000 {
		r.s.Resync(topic)
		r.answer("", time.Millisecond)
		r.ackPending()
	}
	if got := r.s.Stats().Resyncs; got != 4 {
		t.Fatalf("got %d resyncs in 1 s of calls with ResyncInterval 250ms; want 4", got)
	}
	if got := r.s.m.resubscribes[reasonResync].Get(); got != 4 {
		t.Fatalf("resubscribes_total{resync}: got %d; want 4", got)
	}
}

// TestResyncGlobalCapFakeClock: ResyncPerSecond bounds resyncs across
// topics: a full bucket at once, then one per 1/ResyncPerSecond.
func TestResyncGlobalCapFakeClock(t *testing.T) {
	var topics []string
	for _, sym := range []string{"AUSDT", "BUSDT", "CUSDT"} {
		for _, d := range []string{"1", "50", "200", "1000"} {
			topics = append(topics, "orderbook."+d+"."+sym)
		}
	}
	r := newControlRigWith(t, "linear", func(c *Config) { c.ResyncPerSecond = 4 }, topics...)
	r.ackPending()
	for _, topic := range topics {
		if !r.s.Resync(topic) {
			t.Fatalf("Resync(%s): got false", topic)
		}
	}
	var at time.Duration
	f := func(d time.Duration, want int64) {
		t.Helper()
		at += d
		r.answer("", d)
		if got := r.s.Stats().Resyncs; got != want {
			t.Fatalf("at +%v: got %d resyncs; want %d", at, got, want)
		}
	}
	f(0, 4)                    // the full bucket
	f(250*time.Millisecond, 5) // one token per 250 ms
	f(750*time.Millisecond, 8) // +1 s: 4 + 4
	f(2*time.Second, 12)       // the rest, never more than asked
	f(10*time.Second, 12)      // nothing left to resync
}

// TestRetryBackoffFakeClock: a topic Bybit refuses for good is retried
// alone, each retry no sooner than its full-jitter backoff allows
// (rand[0, min(BackoffCap, BackoffBase·2^n))), never in a tight loop; the
// streak is logged once.
func TestRetryBackoffFakeClock(t *testing.T) {
	const topic = "tickers.AUSDT"
	r := newControlRig(t, "linear", topic) // BackoffBase 100 ms, cap 1 s
	cfg := &r.s.cfg
	for k := range 10 {
		if len(r.c.order) != 1 {
			t.Fatalf("try %d: got %d requests pending; want 1", k, len(r.c.order))
		}
		n := r.c.order[0]
		r.answer(`{"success":false,"ret_msg":"error:handler not found,topic:`+topic+`","conn_id":"x","req_id":"s-`+strconv.FormatInt(n, 10)+`","op":"subscribe"}`, 0)
		ts := &r.c.st[0]
		wait := time.Duration(ts.retryAt - r.now)
		if bound := min(cfg.BackoffCap, cfg.BackoffBase<<k); wait < 0 || wait >= bound {
			t.Fatalf("failure %d: retry in %v; want in [0, %v)", k+1, wait, bound)
		}
		if wait > 0 {
			r.answer("", wait-1)
			if len(r.c.order) != 0 {
				t.Fatalf("failure %d: retried 1ns before its backoff ended", k+1)
			}
		}
		r.answer("", time.Duration(ts.retryAt-r.now))
	}
	if got := r.s.Stats().SubscribeFailures; got != 10 {
		t.Fatalf("got %d subscribe failures; want 10", got)
	}
	if got := r.logs.count("WARN", "subscribe failed", topic); got != 1 {
		t.Fatalf("got %d warnings for the streak; want 1\n%s", got, r.logs)
	}
}
