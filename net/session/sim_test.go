package session

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// startSim starts an in-process simulator on 127.0.0.1 for the test.
func startSim(t *testing.T, cfg bybitsim.Config) *bybitsim.Server {
	t.Helper()
	srv, err := bybitsim.Start(cfg)
	if err != nil {
		t.Fatalf("bybitsim.Start: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// harness runs one Session against a simulator.
type harness struct {
	t    *testing.T
	srv  *bybitsim.Server
	s    *Session
	sink *ringSink
	col  *collector
	set  *metrics.Set
	logs *logBuffer
	tap  *tapLog

	cancel context.CancelFunc
	done   chan error
}

// fastConfig returns a session config with test-sized intervals for
// category on srv. Tests adjust it before start. The timeouts that end a
// connection (pong, idle) stay generous, so a busy machine does not cost a
// test an unplanned reconnect; tests of those timeouts set their own.
func fastConfig(t *testing.T, srv *bybitsim.Server, category string, topics ...string) Config {
	t.Helper()
	syms := parse.NewSymbols()
	for _, in := range bybitsim.DefaultInstruments() {
		if in.Category == category {
			if _, err := syms.Add(in.Symbol, parse.DefaultPriceScale, parse.DefaultSizeScale); err != nil {
				t.Fatal(err)
			}
		}
	}
	return Config{
		Category:       category,
		URL:            srv.URL(category),
		Topics:         topics,
		Symbols:        syms,
		Dial:           wsconn.Options{IdleTimeout: 20 * time.Second, HandshakeTimeout: 10 * time.Second, DialTimeout: 10 * time.Second},
		PingInterval:   200 * time.Millisecond,
		PongTimeout:    10 * time.Second,
		AckTimeout:     3 * time.Second,
		BackoffBase:    20 * time.Millisecond,
		BackoffCap:     200 * time.Millisecond,
		HealthyAfter:   10 * time.Second,
		Limiter:        NewLimiter(100, 5*time.Millisecond),
		ResyncInterval: 100 * time.Millisecond,
		Silence:        func(string) time.Duration { return 0 },
	}
}

// start creates the session with a ring sink and runs it until the test
// ends; cleanup cancels it and checks that Run returns.
func start(t *testing.T, srv *bybitsim.Server, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, srv: srv, set: metrics.NewSet(), logs: &logBuffer{}, tap: &tapLog{}}
	if cfg.Sink == nil {
		h.sink = newRingSink(1 << 12)
		cfg.Sink = h.sink
	}
	cfg.Metrics = h.set
	cfg.Labels = `conn="0",category="` + cfg.Category + `"`
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if cfg.Tap == nil {
		cfg.Tap = h.tap.add
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.s = s
	if h.sink != nil {
		h.col = startCollector(t, h.sink, cfg.Symbols)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- s.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

// stop cancels Run and waits for it (bounded).
func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		if err != context.Canceled {
			h.t.Errorf("Run returned %v; want context.Canceled", err)
		}
		h.done <- err // let a second stop see it
	case <-time.After(10 * time.Second):
		h.t.Fatalf("Run did not return within 10s of cancel")
	}
}

// metric returns the value of a metric of the harness's set, by name
// without the labels ("ringfeed_pongs_total") or with extra labels
// (`ringfeed_connects_total{result="ok"}`).
func (h *harness) metric(name string) float64 {
	h.t.Helper()
	h.s.SyncMetrics()
	var buf bytes.Buffer
	h.set.WritePrometheus(&buf)
	base, extra, _ := strings.Cut(name, "{")
	extra = strings.TrimSuffix(extra, "}")
	for line := range strings.Lines(buf.String()) {
		n, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || !strings.HasPrefix(n, base+"{") {
			continue
		}
		if extra != "" && !strings.Contains(n, extra) {
			continue
		}
		var f float64
		fmt.Sscan(v, &f)
		return f
	}
	h.t.Fatalf("metric %s not found in:\n%s", name, buf.String())
	return 0
}

// allSeen reports whether every topic has delivered a data message.
func (h *harness) allSeen() bool {
	for i := range h.s.seen {
		if h.s.seen[i].Load() == 0 {
			return false
		}
	}
	return true
}

// subscribedAll waits until every topic is acked and has delivered data.
func (h *harness) subscribedAll(limit time.Duration) {
	h.t.Helper()
	n := h.s.NumTopics()
	waitFor(h.t, limit, "every topic subscribed and delivering", func() bool {
		return h.s.Stats().Subscribed == n && h.allSeen()
	})
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns the number of log lines containing all of subs.
func (l *logBuffer) count(subs ...string) int {
	n := 0
	for line := range strings.Lines(l.String()) {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

// tapLog records every frame the reader saw, in order.
type tapLog struct {
	mu     sync.Mutex
	frames []string
}

func (l *tapLog) add(p []byte, _ int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.frames) < 100000 {
		l.frames = append(l.frames, string(p))
	}
}

func (l *tapLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.frames...)
}
