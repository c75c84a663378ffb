package session

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ringfeed/ringfeed/net/rest"
)

// Probe defaults.
const (
	DefaultProbeConnectTimeout = 5 * time.Second
	DefaultProbeTimeout        = 10 * time.Second
	DefaultProbeTries          = 3
	DefaultProbeBackoff        = time.Second
)

// ProbeConfig configures a Probe. URL is required.
type ProbeConfig struct {
	// URL is the REST base, e.g. "https://api.bybit.com"; the probe GETs
	// URL + "/v5/market/time".
	URL string
	// ConnectTimeout bounds the TCP connect and TLS handshake of a try
	// (default 5 s); Timeout bounds a whole try (default 10 s).
	ConnectTimeout, Timeout time.Duration
	// Tries per run (default 3); the wait before try n+1 is the REST
	// client's backoff policy (rest.Client.Delay: full jitter up to
	// Backoff·2^(n-1), default Backoff 1 s).
	Tries   int
	Backoff time.Duration
	// RootCAs are added to the system roots for https (verification is
	// always on).
	RootCAs []*x509.Certificate
	// Client, when set, is the REST client the probe asks (the engine
	// shares one among all REST callers, with one request budget); URL,
	// ConnectTimeout, Timeout, Backoff and RootCAs then only name the
	// probe in logs. When nil the probe makes its own from those fields.
	Client *rest.Client
	// Metrics, Labels and Logger as in Config.
	Metrics *metrics.Set
	Labels  string
	Logger  *slog.Logger
}

// Probe tells "network down" from "stream down": it asks the exchange's REST
// clock (GET /v5/market/time) with its own timeouts and retries, and
// estimates the local-to-exchange clock offset from the answer. It is a
// diagnostic, never a gate: the WebSocket path does not wait for it or
// depend on REST being reachable (some regions block REST but not the
// WebSocket).
//
// One Probe is shared by all sessions. All methods are safe for concurrent
// use. A run is single-flight: Trigger starts one in its own goroutine
// unless one is in flight; RunOnce joins the run in flight or runs one.
// Close cancels a run in flight and waits for its goroutine.
type Probe struct {
	cfg    ProbeConfig
	url    string
	client *rest.Client
	log    *slog.Logger

	offsetNs atomic.Int64
	rttNs    atomic.Int64
	runs     atomic.Int64
	up       atomic.Int32 // 0 unknown, 1 last run ok, 2 last run failed
	lastOK   atomic.Int64 // unix ns of the last successful try

	tries, failures *metrics.Counter

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	inflight *flight
	lastErr  error
}

type flight struct {
	done chan struct{}
	err  error
}

// NewProbe returns a probe. It registers ringfeed_probe_tries_total,
// ringfeed_probe_failures_total (failed tries), ringfeed_clock_offset_seconds
// and ringfeed_probe_rtt_seconds in cfg.Metrics.
func NewProbe(cfg ProbeConfig) (*Probe, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("session: ProbeConfig.URL %q: want http:// or https://", cfg.URL)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ConnectTimeout", &cfg.ConnectTimeout, DefaultProbeConnectTimeout},
		{"Timeout", &cfg.Timeout, DefaultProbeTimeout},
		{"Backoff", &cfg.Backoff, DefaultProbeBackoff},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("session: ProbeConfig.%s %v is negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.Tries < 0 {
		return nil, fmt.Errorf("session: ProbeConfig.Tries %d is negative", cfg.Tries)
	}
	if cfg.Tries == 0 {
		cfg.Tries = DefaultProbeTries
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewSet()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	names, err := newNamer(cfg.Labels)
	if err != nil {
		return nil, fmt.Errorf("session: ProbeConfig.Labels: %w", err)
	}
	for _, n := range []string{"ringfeed_probe_tries_total", "ringfeed_probe_failures_total", "ringfeed_clock_offset_seconds", "ringfeed_probe_rtt_seconds"} {
		if err := names.check(cfg.Metrics, n); err != nil {
			return nil, fmt.Errorf("session: ProbeConfig.Labels: %w", err)
		}
	}
	client := cfg.Client
	if client == nil {
		// A pooled connection is fine for a probe: a dead route still
		// fails by Timeout, and the round trip then measures the
		// exchange, not a TCP and TLS handshake.
		client, err = rest.New(rest.Config{
			URL: cfg.URL, ConnectTimeout: cfg.ConnectTimeout, Timeout: cfg.Timeout,
			Backoff: cfg.Backoff, BackoffCap: cfg.Backoff << 4, RootCAs: cfg.RootCAs,
		})
		if err != nil {
			return nil, fmt.Errorf("session: ProbeConfig: %w", err)
		}
	}
	p := &Probe{
		cfg:    cfg,
		url:    strings.TrimRight(cfg.URL, "/") + "/v5/market/time",
		client: client,
		log:    cfg.Logger,
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.tries = cfg.Metrics.NewCounter(names.name("ringfeed_probe_tries_total"))
	p.failures = cfg.Metrics.NewCounter(names.name("ringfeed_probe_failures_total"))
	cfg.Metrics.NewGauge(names.name("ringfeed_clock_offset_seconds"), func() float64 {
		return time.Duration(p.offsetNs.Load()).Seconds()
	})
	cfg.Metrics.NewGauge(names.name("ringfeed_probe_rtt_seconds"), func() float64 {
		return time.Duration(p.rttNs.Load()).Seconds()
	})
	return p, nil
}

// Offset returns the estimated exchange clock minus the local wall clock
// (positive: the exchange is ahead), from the last successful try; 0 before
// one. Local receive time + Offset is the exchange's time for feed-delay
// figures. It does not allocate.
func (p *Probe) Offset() time.Duration { return time.Duration(p.offsetNs.Load()) }

// ProbeStats is a snapshot of a Probe's state.
type ProbeStats struct {
	Runs, Tries, Failures int64
	// Up: the last run succeeded; Known: a run has finished.
	Up, Known bool
	LastOK    time.Time     // zero before the first success
	LastErr   error         // of the last failed run
	Offset    time.Duration // see Offset
	RTT       time.Duration // round trip of the last successful try
}

// Stats returns a snapshot of the probe's counters.
func (p *Probe) Stats() ProbeStats {
	p.mu.Lock()
	lastErr := p.lastErr
	p.mu.Unlock()
	st := ProbeStats{
		Runs:     p.runs.Load(),
		Tries:    int64(p.tries.Get()),
		Failures: int64(p.failures.Get()),
		Up:       p.up.Load() == 1,
		Known:    p.up.Load() != 0,
		LastErr:  lastErr,
		Offset:   p.Offset(),
		RTT:      time.Duration(p.rttNs.Load()),
	}
	if ns := p.lastOK.Load(); ns != 0 {
		st.LastOK = time.Unix(0, ns)
	}
	return st
}

// Trigger starts a run in a new goroutine and returns true, or returns false
// if a run is already in flight or the probe is closed. It never blocks.
func (p *Probe) Trigger() bool {
	p.mu.Lock()
	if p.inflight != nil || p.ctx.Err() != nil {
		p.mu.Unlock()
		return false
	}
	f := &flight{done: make(chan struct{})}
	p.inflight = f
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		p.run(p.ctx, f)
	}()
	return true
}

// RunOnce runs the probe and returns nil when a try succeeded, or the last
// try's error. If a run is in flight it waits for that run's result instead.
// It takes at most Tries×Timeout plus the backoffs, or until ctx ends.
func (p *Probe) RunOnce(ctx context.Context) error {
	p.mu.Lock()
	if f := p.inflight; f != nil {
		p.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	f := &flight{done: make(chan struct{})}
	p.inflight = f
	p.mu.Unlock()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	unlink := context.AfterFunc(p.ctx, stop) // Close cancels this run too
	defer unlink()
	p.run(ctx, f)
	return f.err
}

// Close cancels a run in flight and waits for the goroutine Trigger started.
// Later Triggers do nothing. Idempotent.
func (p *Probe) Close() {
	p.mu.Lock() // orders the cancel against Trigger's check and wg.Add
	p.cancel()
	p.mu.Unlock()
	p.wg.Wait()
}

// run performs one run: up to Tries tries with backoff. It logs each try at
// debug level and warns once when the run fails after a success (or as the
// first run), so a long network outage does not flood the log.
func (p *Probe) run(ctx context.Context, f *flight) {
	var err error
	for i := range p.cfg.Tries {
		if i > 0 {
			if err2 := rest.Sleep(ctx, p.client.Delay(i)); err2 != nil {
				err = errors.Join(err, err2)
				break
			}
		}
		p.tries.Inc()
		var off, rtt time.Duration
		off, rtt, err = p.try(ctx)
		if err == nil {
			p.offsetNs.Store(int64(off))
			p.rttNs.Store(int64(rtt))
			p.lastOK.Store(time.Now().UnixNano())
			p.log.Debug("probe ok", "url", p.url, "try", i+1, "offset", off, "rtt", rtt)
			break
		}
		p.failures.Inc()
		p.log.Debug("probe try failed", "url", p.url, "try", i+1, "of", p.cfg.Tries, "err", err)
		if ctx.Err() != nil {
			break
		}
	}
	p.runs.Add(1)
	if err == nil {
		if p.up.Swap(1) == 2 {
			p.log.Info("probe: REST reachable again", "url", p.url)
		}
	} else if p.up.Swap(2) != 2 {
		p.log.Warn("probe: REST unreachable, the network may be down", "url", p.url, "tries", p.cfg.Tries, "err", err)
	}
	p.mu.Lock()
	if err != nil {
		p.lastErr = err
	}
	f.err = err
	p.inflight = nil
	p.mu.Unlock()
	close(f.done)
}

// try does one GET and returns the clock offset estimate and round trip.
func (p *Probe) try(ctx context.Context) (offset, rtt time.Duration, err error) {
	st, err := p.client.Time(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("session: probe: %w", err)
	}
	return st.Offset, st.RTT, nil
}
