package session

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

func newTestProbe(t *testing.T, cfg ProbeConfig) (*Probe, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewSet()
	}
	p, err := NewProbe(cfg)
	if err != nil {
		t.Fatalf("NewProbe: %v", err)
	}
	t.Cleanup(p.Close)
	return p, logs
}

// TestProbeSim: against the simulator's /v5/market/time the probe succeeds
// at the first try and estimates a clock offset near zero (same host).
func TestProbeSim(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	p, _ := newTestProbe(t, ProbeConfig{URL: srv.RESTURL()})
	if err := p.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	st := p.Stats()
	if st.Tries != 1 || st.Failures != 0 || !st.Up || !st.Known || st.LastOK.IsZero() {
		t.Errorf("got %+v; want 1 try, 0 failures, up", st)
	}
	// Same machine, same clock: the estimate errs by at most half the
	// round trip plus the server's rounding.
	if off := p.Offset(); off < -time.Second || off > time.Second {
		t.Errorf("Offset: got %v; want within ±1s on one host", off)
	}
}

// skewServer serves /v5/market/time with its clock ahead by skew.
func skewServer(t *testing.T, skew time.Duration, body string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body != "" {
			fmt.Fprint(w, body)
			return
		}
		now := time.Now().Add(skew)
		fmt.Fprintf(w, `{"retCode":0,"retMsg":"OK","result":{"timeSecond":"%d","timeNano":"%d"},"retExtInfo":{},"time":%d}`,
			now.Unix(), now.UnixNano(), now.UnixMilli())
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

func TestProbeOffset(t *testing.T) {
	p, _ := newTestProbe(t, ProbeConfig{URL: skewServer(t, 42*time.Second, "")})
	if err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if off := p.Offset(); off < 41*time.Second || off > 43*time.Second {
		t.Errorf("Offset: got %v; want 42s ± 1s", off)
	}
	if p.Stats().RTT <= 0 {
		t.Error("RTT: got 0; want > 0")
	}
}

// TestProbeFailures: a closed port, a server that never answers and a bad
// body each fail every try, with backoff between tries, in bounded time,
// and warn once across runs.
func TestProbeFailures(t *testing.T) {
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		return "http://" + ln.Addr().String()
	}
	hang := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { <-stop; c.Close() }() // read nothing, answer nothing
			}
		}()
		t.Cleanup(func() { close(stop); ln.Close() })
		return "http://" + ln.Addr().String()
	}
	for _, tc := range []struct {
		name string
		url  func() string
	}{
		{"closed port", closed},
		{"hanging server", hang},
		{"retCode", func() string { return skewServer(t, 0, `{"retCode":10001,"retMsg":"nope"}`) }},
		{"garbage", func() string { return skewServer(t, 0, `<html>`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, logs := newTestProbe(t, ProbeConfig{
				URL:            tc.url(),
				ConnectTimeout: 200 * time.Millisecond,
				Timeout:        200 * time.Millisecond,
				Backoff:        20 * time.Millisecond,
			})
			begin := time.Now()
			for range 2 {
				if err := p.RunOnce(context.Background()); err == nil {
					t.Fatal("RunOnce: got nil; want an error")
				}
			}
			// 2 runs × (3 × 200 ms + 20 + 40 ms), with generous slack.
			if d := time.Since(begin); d > 10*time.Second {
				t.Errorf("two runs took %v; want bounded by the timeouts", d)
			}
			st := p.Stats()
			if st.Tries != 6 || st.Failures != 6 || st.Up || !st.Known || st.LastErr == nil {
				t.Errorf("got %+v; want 6 tries, 6 failures, down, with an error", st)
			}
			if got := logs.count("WARN"); got != 1 {
				t.Errorf("got %d warnings over 2 failed runs; want 1\n%s", got, logs)
			}
			if got := logs.count("DEBUG", "probe try failed"); got != 6 {
				t.Errorf("got %d debug lines; want one per try (6)", got)
			}
		})
	}
}

// TestProbeTrigger: Trigger is single-flight and asynchronous; Close joins
// the run in flight.
func TestProbeTrigger(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	p, _ := newTestProbe(t, ProbeConfig{URL: srv.RESTURL()})
	if !p.Trigger() {
		t.Fatal("first Trigger: got false; want true")
	}
	p.Trigger() // in flight or done: must not block either way
	waitFor(t, 5*time.Second, "triggered run done", func() bool { return p.Stats().Runs >= 1 })
	if err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if p.Trigger() {
		t.Error("Trigger after Close: got true; want false")
	}
}

// TestProbeTriggeredBySession: a session that keeps failing to connect
// triggers the probe after ProbeAfter attempts, without waiting for it.
func TestProbeTriggeredBySession(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	if err := srv.RefuseHandshakes(1000, 403); err != nil {
		t.Fatal(err)
	}
	p, _ := newTestProbe(t, ProbeConfig{URL: srv.RESTURL()})
	cfg := fastConfig(t, srv, "linear", "tickers.BTCUSDT")
	cfg.Probe = p
	h := start(t, srv, cfg)
	waitFor(t, 10*time.Second, "probe run", func() bool { return p.Stats().Runs >= 1 })
	if st := h.s.Stats(); st.Attempts < 3 {
		t.Errorf("probe ran after %d attempts; want >= ProbeAfter (3)", st.Attempts)
	}
	if !p.Stats().Up {
		t.Error("probe: got down; want up (REST works, the stream is refused)")
	}
}

func TestNewProbeRejects(t *testing.T) {
	f := func(cfg ProbeConfig) {
		t.Helper()
		if _, err := NewProbe(cfg); err == nil {
			t.Errorf("NewProbe(%+v): got nil error", cfg)
		}
	}
	f(ProbeConfig{URL: "ftp://x"})
	f(ProbeConfig{URL: "http://x", Tries: -1})
	f(ProbeConfig{URL: "http://x", Timeout: -1})
	f(ProbeConfig{URL: "http://x", Labels: "bad"})
}
