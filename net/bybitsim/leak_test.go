package bybitsim

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestCloseNoGoroutineLeak: after Close every goroutine the Server started
// (HTTP, generator, fault schedule, per-connection readers and writers,
// timers) is gone, even with clients still connected and faults pending.
func TestCloseNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Start(Config{Seed: 1, Faults: FaultSchedule{Seed: 1, PerSecond: 0.001}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	var clients []*client
	for _, cat := range []string{"spot", "linear", "inverse", "option"} {
		cl := dial(t, s.URL(cat))
		cl.send(subscribeMsg("tickers." + s.Symbols(cat)[0]))
		cl.nextAck()
		clients = append(clients, cl)
	}
	ids := s.Conns()
	_, _ = s.DropAfter(ids[0].ID, time.Hour)
	_, _ = s.ServerPings(ids[1].ID, time.Millisecond)
	_, _ = s.Stall(ids[2].ID, time.Hour)
	_ = s.DelayHandshakes(1, time.Hour)
	go func() { // held by the delay until Close
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		c, _, err := websocket.Dial(ctx, s.URL("linear"), nil)
		if err == nil {
			_ = c.CloseNow()
		}
	}()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: waitLong}
	resp, err := hc.Get(s.RESTURL() + "/v5/market/time")
	if err == nil {
		_ = resp.Body.Close()
	}
	time.Sleep(20 * time.Millisecond)
	clients[3].close() // a client that leaves takes its subscriptions along
	deadline := time.Now().Add(waitLong)
	for len(s.Conns()) > 3 {
		if time.Now().After(deadline) {
			t.Fatalf("closed client still registered")
		}
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	active := len(s.active)
	s.mu.Unlock()
	if active != 3 {
		t.Fatalf("%d active streams after one of four clients left; want 3", active)
	}
	_ = s.Close()
	for _, cl := range clients {
		cl.close()
	}
	s.mu.Lock()
	active, markets := len(s.active), len(s.activeMk)
	s.mu.Unlock()
	if active != 0 || markets != 0 {
		t.Fatalf("after Close: %d active streams, %d active markets; want none", active, markets)
	}
	deadline = time.Now().Add(waitLong)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close; %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
