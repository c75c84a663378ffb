package session

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/wsconn"
)

// Topics per category over the simulator's default instruments.
var categoryTopics = map[string][]string{
	"spot":    {"orderbook.50.BTCUSDT", "orderbook.1.ETHUSDT", "tickers.BTCUSDT", "kline.1.ETHUSDT"},
	"linear":  {"orderbook.50.BTCUSDT", "orderbook.200.XRPUSDT", "tickers.ETHUSDT", "kline.1.BTCUSDT"},
	"inverse": {"orderbook.1.BTCUSD", "orderbook.50.BTCUSD", "tickers.BTCUSD", "kline.1.BTCUSD"},
	"option":  {"orderbook.25.BTC-27DEC30-80000-C", "orderbook.100.ETH-27DEC30-4000-C", "tickers.BTC-27DEC30-60000-P"},
}

func TestSubscribeDataPerCategory(t *testing.T) {
	for _, cat := range []string{"spot", "linear", "inverse", "option"} {
		t.Run(cat, func(t *testing.T) {
			srv := startSim(t, bybitsim.Config{Seed: 1})
			h := start(t, srv, fastConfig(t, srv, cat, categoryTopics[cat]...))
			h.subscribedAll(10 * time.Second)
			// Every topic's messages reach the ring (the collector reads it
			// on its own goroutine); every book began with a snapshot.
			for _, topic := range categoryTopics[cat] {
				waitFor(t, 10*time.Second, topic+" messages in the ring", func() bool { return h.col.count(topic) > 0 })
				if strings.HasPrefix(topic, "orderbook.") {
					waitFor(t, 10*time.Second, topic+" snapshot in the ring", func() bool { return h.col.snaps(topic) > 0 })
				}
			}
			st := h.s.Stats()
			if st.SubscribeFailures != 0 || st.ParseErrors != 0 || st.Connections != 1 {
				t.Errorf("got %d subscribe failures, %d parse errors, %d connections; want 0, 0, 1", st.SubscribeFailures, st.ParseErrors, st.Connections)
			}
			if got := h.sink.resets.Load(); got != 1 {
				t.Errorf("got %d Sink.Reset calls; want 1", got)
			}
			if got := srv.Stats().SubscribesFailed; got != 0 {
				t.Errorf("simulator counted %d failed subscribes; want 0", got)
			}
			if got := h.metric(`ringfeed_connects_total{result="ok"}`); got != 1 {
				t.Errorf("connects_total{ok}: got %v; want 1", got)
			}
			if got := h.metric("ringfeed_connection_up"); got != 1 {
				t.Errorf("connection_up: got %v; want 1", got)
			}
			if got := h.metric(`ringfeed_messages_total{kind="book"}`); got == 0 {
				t.Error("messages_total{book}: got 0; want > 0")
			}
		})
	}
}

// TestOptionTrades: option trades come on publicTrade.{BASE} and map to
// that topic for every option of the base coin.
func TestOptionTrades(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 2, Rate: bybitsim.Rate{Mode: bybitsim.RatePerStream, PerSecond: 50}})
	h := start(t, srv, fastConfig(t, srv, "option", "publicTrade.BTC", "tickers.ETH-27DEC30-4000-C"))
	h.subscribedAll(10 * time.Second)
	if got := h.metric(`ringfeed_messages_total{kind="trade"}`); got == 0 {
		t.Error("messages_total{trade}: got 0; want > 0")
	}
}

// TestSpotBatching: 14 spot topics go out in requests of at most 10 args,
// which the simulator (like Bybit) would reject as a whole with 11.
func TestSpotBatching(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 3})
	// The simulator rejects a spot request of 11 args as a whole.
	var eleven []string
	for _, sym := range []string{"BTCUSDT", "ETHUSDT"} {
		for _, d := range []string{"1", "50", "200", "1000"} {
			eleven = append(eleven, "orderbook."+d+"."+sym)
		}
		eleven = append(eleven, "tickers."+sym, "publicTrade."+sym, "kline.1."+sym)
	}
	if len(eleven) != 14 {
		t.Fatalf("built %d topics; want 14", len(eleven))
	}
	ack := rawRequest(t, srv.URL("spot"), `{"op":"subscribe","req_id":"x","args":["`+strings.Join(eleven[:11], `","`)+`"]}`)
	if !strings.Contains(ack, `"success":false`) || !strings.Contains(ack, `args size \u003e10`) {
		t.Fatalf("11-arg request: got %s; want a whole-request rejection", ack)
	}
	failedBefore := srv.Stats().SubscribesFailed

	h := start(t, srv, fastConfig(t, srv, "spot", eleven...))
	h.subscribedAll(10 * time.Second)
	if got := srv.Stats().SubscribesFailed - failedBefore; got != 0 {
		t.Errorf("simulator counted %d failed topics; want 0", got)
	}
	if got := h.s.Stats().SubscribeFailures; got != 0 {
		t.Errorf("got %d subscribe failures; want 0", got)
	}
	var reqs int
	for _, f := range h.tap.all() {
		if strings.Contains(f, `"op":"subscribe"`) {
			reqs++
		}
	}
	if reqs != 2 {
		t.Errorf("got %d subscribe acks; want 2 (10 + 4 topics)", reqs)
	}
}

// rawRequest sends one text message on a fresh connection and returns the
// first op answer (a message without "topic").
func rawRequest(t *testing.T, url, req string) string {
	t.Helper()
	c, err := wsconn.Dial(context.Background(), url, wsconn.Options{IdleTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close(wsconn.CloseNormal, "")
	if err := c.WriteText([]byte(req)); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	for range 1000 {
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if !strings.Contains(string(m.Payload), `"topic"`) {
			return string(m.Payload)
		}
	}
	t.Fatal("no answer within 1000 messages")
	return ""
}

// TestSnapshotBeforeAck: Bybit can send a subscription's first snapshot
// before its ack; the session keeps it.
func TestSnapshotBeforeAck(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 4, SnapshotBeforeAck: true})
	topics := []string{"orderbook.50.BTCUSDT", "orderbook.200.ETHUSDT"}
	h := start(t, srv, fastConfig(t, srv, "linear", topics...))
	h.subscribedAll(10 * time.Second)
	frames := h.tap.all()
	ackAt, snapAt := -1, -1
	for i, f := range frames {
		if ackAt < 0 && strings.Contains(f, `"op":"subscribe"`) {
			ackAt = i
		}
		if snapAt < 0 && strings.Contains(f, `"type":"snapshot"`) && strings.Contains(f, `"orderbook.50.BTCUSDT"`) {
			snapAt = i
		}
	}
	if snapAt < 0 || ackAt < 0 || snapAt > ackAt {
		t.Fatalf("snapshot at frame %d, ack at frame %d; want the snapshot first", snapAt, ackAt)
	}
	for _, topic := range topics {
		waitFor(t, 10*time.Second, topic+" snapshot in the ring", func() bool { return h.col.snaps(topic) >= 1 })
	}
}

func TestHeartbeatPerCategory(t *testing.T) {
	for _, cat := range []string{"spot", "linear", "inverse", "option"} {
		t.Run(cat, func(t *testing.T) {
			srv := startSim(t, bybitsim.Config{Seed: 5})
			cfg := fastConfig(t, srv, cat, categoryTopics[cat][0])
			cfg.PingInterval = 50 * time.Millisecond
			h := start(t, srv, cfg)
			waitFor(t, 10*time.Second, "3 pongs", func() bool { return h.s.Stats().Pongs >= 3 })
			st := h.s.Stats()
			if st.PongRTT <= 0 {
				t.Errorf("PongRTT: got %v; want > 0", st.PongRTT)
			}
			if st.PingsSent < 3 || st.Connections != 1 {
				t.Errorf("got %d pings sent, %d connections; want >= 3, 1", st.PingsSent, st.Connections)
			}
			if got := srv.Stats().PingsAnswered; got < 3 {
				t.Errorf("simulator answered %d pings; want >= 3", got)
			}
			if h.metric("ringfeed_pong_rtt_seconds") <= 0 {
				t.Error("pong_rtt_seconds: got 0; want > 0")
			}
			if st.UnknownOps != 0 {
				t.Errorf("got %d unknown ops; want 0 (pongs misread)", st.UnknownOps)
			}
		})
	}
}

// TestBackoffAgainstDeadServer: with a server that drops every connection
// before the handshake, the session keeps trying, one attempt per backoff
// sleep, counts each, warns once for the outage, and asks the limiter
// before every attempt. The test owns the port, so nobody else can answer
// on it. (The backoff draws and the limiter's rate are checked without the
// wall clock: TestBackoff, TestLimiter, TestWindowLimiterBound.)
func TestBackoffAgainstDeadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	syms := testSymbols(t, "BTCUSDT")
	start := func(limiter *Limiter) *harness {
		t.Helper()
		cfg := Config{
			Category:    "linear",
			URL:         "ws://" + ln.Addr().String() + "/v5/public/linear",
			Topics:      []string{"tickers.BTCUSDT"},
			Symbols:     syms,
			Dial:        wsconn.Options{DialTimeout: 10 * time.Second, HandshakeTimeout: 10 * time.Second},
			BackoffBase: 20 * time.Millisecond,
			BackoffCap:  160 * time.Millisecond,
			Limiter:     limiter,
		}
		return start(t, nil, cfg)
	}
	h := start(NewLimiter(1000, time.Millisecond))
	waitFor(t, 20*time.Second, "five attempts", func() bool { return h.s.Stats().Attempts >= 5 })
	h.stop()
	n := h.s.Stats().Attempts
	// The last attempt may be cut short by stop: it is not counted as a
	// failed connect then.
	if got := int64(h.metric(`ringfeed_connects_total{result="handshake_error"}`)); got != n && got != n-1 {
		t.Errorf("connects_total{handshake_error}: got %d; want %d, or %d if stop cut the last attempt", got, n, n-1)
	}
	if got := h.metric("ringfeed_reconnect_attempts_total"); int64(got) != n-1 {
		t.Errorf("reconnect_attempts_total: got %v; want %d", got, n-1)
	}
	if got := h.logs.count("connect failed", "WARN"); got != 1 {
		t.Errorf("got %d warnings for %d failed attempts; want 1 per outage", got, n)
	}

	// Every attempt waits for the limiter: with a burst of 2 and one token
	// an hour, the session makes two attempts and then waits in
	// Limiter.Wait for the third's token (booked, not granted).
	lim := NewLimiter(2, time.Hour)
	h = start(lim)
	waitFor(t, 20*time.Second, "two attempts, the third waiting for the limiter", func() bool {
		lim.mu.Lock()
		booked := time.Until(lim.tat) > 2*time.Hour // three tokens reserved
		lim.mu.Unlock()
		return booked && h.s.Stats().Attempts == 2
	})
	h.stop()
	if got := h.s.Stats().Attempts; got != 2 {
		t.Errorf("attempts through a limiter with 2 tokens: got %d; want 2", got)
	}
}

// TestConnectResult classifies real Dial errors for connects_total.
func TestConnectResult(t *testing.T) {
	// Port 1 on loopback: nothing listens there on a test machine.
	_, err := wsconn.Dial(context.Background(), "ws://127.0.0.1:1/", wsconn.Options{DialTimeout: time.Second})
	if err == nil {
		t.Skip("something listens on 127.0.0.1:1")
	}
	if got := connectResult(err); got != connectDialError {
		t.Errorf("connection refused (%v): got %s; want dial_error", err, connectResults[got])
	}
	f := func(err error, want int) {
		t.Helper()
		if got := connectResult(err); got != want {
			t.Errorf("connectResult(%v): got %s; want %s", err, connectResults[got], connectResults[want])
		}
	}
	f(fmt.Errorf("wsconn: handshake: %w", &wsconn.StatusError{Status: 429}), connectRefused)
	f(fmt.Errorf("%w: x", wsconn.ErrHandshakeTimeout), connectHandshakeError)
	f(fmt.Errorf("%w: x", wsconn.ErrDialTimeout), connectDialError)
}

// TestRunTwice: a second Run while one is running returns ErrRunning; after
// the first returns, Run may be called again and reconnects.
func TestRunTwice(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 6})
	h := start(t, srv, fastConfig(t, srv, "linear", "orderbook.50.BTCUSDT"))
	h.subscribedAll(10 * time.Second)
	if err := h.s.Run(context.Background()); err != ErrRunning {
		t.Fatalf("second Run: got %v; want ErrRunning", err)
	}
	h.stop()
	if h.s.Connected() {
		t.Fatal("Connected after Run returned: got true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.s.Run(ctx) }()
	waitFor(t, 10*time.Second, "second connection subscribed", func() bool {
		st := h.s.Stats()
		return st.Connections == 2 && st.Subscribed == 1
	})
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run: got %v; want context.Canceled", err)
	}
}
