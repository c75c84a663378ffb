package session

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
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
	// Tries per run (default 3); the wait before try n+1 is Backoff·2^n
	// (default 1 s: 1 s, 2 s, 4 s …).
	Tries   int
	Backoff time.Duration
	// RootCAs are added to the system roots for https (verification is
	// always on).
	RootCAs []*x509.Certificate
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
	client *http.Client
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
	var tlsConf *tls.Config
	if len(cfg.RootCAs) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, c := range cfg.RootCAs {
			pool.AddCert(c)
		}
		tlsConf = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	p := &Probe{
		cfg: cfg,
		url: strings.TrimRight(cfg.URL, "/") + "/v5/market/time",
		client: &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				DialContext:         (&net.Dialer{Timeout: cfg.ConnectTimeout}).DialContext,
				TLSHandshakeTimeout: cfg.ConnectTimeout,
				TLSClientConfig:     tlsConf,
				// Each try measures a fresh path: a pooled connection
				// would hide a dead route.
				DisableKeepAlives: true,
			},
		},
		log: cfg.Logger,
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
			if err2 := sleep(ctx, p.cfg.Backoff<<(i-1)); err2 != nil {
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

// maxProbeBody bounds the response read; the real one is ~150 bytes.
const maxProbeBody = 64 << 10

// try does one GET and returns the clock offset estimate and round trip.
func (p *Probe) try(ctx context.Context) (offset, rtt time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("session: probe: %w", err)
	}
	t0 := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("session: probe: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	resp.Body.Close()
	t1 := time.Now()
	if err != nil {
		return 0, 0, fmt.Errorf("session: probe: reading body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("session: probe: HTTP status %d", resp.StatusCode)
	}
	server, err := serverTime(body)
	if err != nil {
		return 0, 0, err
	}
	rtt = t1.Sub(t0)
	// The server read its clock somewhere within the round trip; the
	// midpoint is the best guess and errs by at most rtt/2.
	mid := t0.Add(rtt / 2)
	return server.Sub(mid), rtt, nil
}

// serverTime extracts result.timeNano (falling back to timeSecond) from a
// /v5/market/time response.
func serverTime(body []byte) (time.Time, error) {
	var r struct {
		RetCode *int   `json:"retCode"`
		RetMsg  string `json:"retMsg"`
		Result  struct {
			TimeSecond string `json:"timeSecond"`
			TimeNano   string `json:"timeNano"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return time.Time{}, fmt.Errorf("session: probe: decoding %q: %w", truncate(body, 200), err)
	}
	if r.RetCode == nil || *r.RetCode != 0 {
		return time.Time{}, fmt.Errorf("session: probe: retCode not 0 (retMsg %q)", r.RetMsg)
	}
	if ns, err := strconv.ParseInt(r.Result.TimeNano, 10, 64); err == nil && ns > 0 {
		return time.Unix(0, ns), nil
	}
	if s, err := strconv.ParseInt(r.Result.TimeSecond, 10, 64); err == nil && s > 0 {
		return time.Unix(s, 0), nil
	}
	return time.Time{}, fmt.Errorf("session: probe: no usable result.timeNano or timeSecond in %q", truncate(body, 200))
}

// truncate cuts b to at most n bytes for a log sample.
func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
