package rest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Defaults for Config's zero fields.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultTries          = 3
	DefaultBackoff        = 500 * time.Millisecond
	DefaultBackoffCap     = 5 * time.Second
	DefaultBanPause       = time.Minute
	// maxBody bounds a response read; instruments-info for every linear
	// symbol at limit 1000 is about 1 MB.
	maxBody = 32 << 20
)

// Errors. A failed call's error wraps one of them, so callers can tell a
// refusal from an outage with errors.Is.
var (
	// ErrUnavailable: the API could not be reached or answered with an
	// HTTP error or an unreadable body.
	ErrUnavailable = errors.New("rest: unavailable")
	// ErrForbidden: HTTP 403 (rate ban or geo-block); the client pauses.
	ErrForbidden = errors.New("rest: forbidden (HTTP 403)")
	// ErrRetCode: Bybit answered with a non-zero retCode (see *APIError).
	ErrRetCode = errors.New("rest: non-zero retCode")
)

// APIError is a non-zero retCode answer. It wraps ErrRetCode.
type APIError struct {
	Path    string
	RetCode int
	RetMsg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("rest: GET %s: retCode %d: %s", e.Path, e.RetCode, e.RetMsg)
}

func (e *APIError) Unwrap() error { return ErrRetCode }

// Retried retCodes: 10006 too many visits, 10016 server error / busy.
var retryCodes = map[int]bool{10006: true, 10016: true}

// Config configures a Client. URL is required.
type Config struct {
	// URL is the REST base, e.g. "https://api.bybit.com".
	URL string
	// ConnectTimeout bounds the TCP connect and the TLS handshake
	// (default 5 s); Timeout bounds one try, headers and body (default
	// 10 s).
	ConnectTimeout, Timeout time.Duration
	// Tries per call (default 3). The wait before try n+1 is drawn
	// uniformly from [0, min(BackoffCap, Backoff·2^(n-1))] (full jitter;
	// defaults 500 ms and 5 s).
	Tries               int
	Backoff, BackoffCap time.Duration
	// BanPause is how long the client refuses calls after an HTTP 403
	// (default 1 min).
	BanPause time.Duration
	// RootCAs and the PEM certificates in RootCAFile are added to the
	// system roots for https; the file is read by New, so a bad file
	// fails at start. Verification is always on.
	RootCAs    []*x509.Certificate
	RootCAFile string
	// Limiter is the request budget; nil means Shared().
	Limiter *Limiter
	// Metrics, when set, gets ringfeed_rest_requests_total (HTTP requests
	// sent), ringfeed_rest_retries_total and ringfeed_rest_failures_total
	// (calls that returned an error), with Labels (e.g. `category="spot"`)
	// on each.
	Metrics *metrics.Set
	Labels  string
}

// Client calls Bybit's public REST API. Safe for concurrent use.
type Client struct {
	cfg    Config
	base   string
	http   *http.Client
	lim    *Limiter
	banned atomic.Int64 // unix ns until which calls are refused

	requests, retries, failures atomic.Int64
	mReq, mRetry, mFail         *metrics.Counter

	rngMu sync.Mutex
	rng   *rand.Rand
}

// New validates cfg, fills its defaults and returns a client.
func New(cfg Config) (*Client, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("rest: URL %q: want http:// or https://", cfg.URL)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ConnectTimeout", &cfg.ConnectTimeout, DefaultConnectTimeout},
		{"Timeout", &cfg.Timeout, DefaultTimeout},
		{"Backoff", &cfg.Backoff, DefaultBackoff},
		{"BackoffCap", &cfg.BackoffCap, DefaultBackoffCap},
		{"BanPause", &cfg.BanPause, DefaultBanPause},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("rest: %s %v is negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.Tries < 0 {
		return nil, fmt.Errorf("rest: Tries %d is negative", cfg.Tries)
	}
	if cfg.Tries == 0 {
		cfg.Tries = DefaultTries
	}
	if cfg.Limiter == nil {
		cfg.Limiter = Shared()
	}
	cas := cfg.RootCAs
	if cfg.RootCAFile != "" {
		more, err := readCAs(cfg.RootCAFile)
		if err != nil {
			return nil, err
		}
		cas = append(cas[:len(cas):len(cas)], more...)
	}
	var tlsConf *tls.Config
	if len(cas) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, c := range cas {
			pool.AddCert(c)
		}
		tlsConf = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c := &Client{
		cfg:  cfg,
		base: strings.TrimRight(cfg.URL, "/"),
		http: &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
				TLSHandshakeTimeout:   cfg.ConnectTimeout,
				ResponseHeaderTimeout: cfg.Timeout,
				TLSClientConfig:       tlsConf,
				MaxIdleConnsPerHost:   4,
				IdleConnTimeout:       90 * time.Second,
				ForceAttemptHTTP2:     true,
			},
		},
		lim: cfg.Limiter,
		rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)),
	}
	if cfg.Metrics != nil {
		name := func(n string) string {
			if cfg.Labels == "" {
				return n
			}
			return n + "{" + cfg.Labels + "}"
		}
		c.mReq = cfg.Metrics.NewCounter(name("ringfeed_rest_requests_total"))
		c.mRetry = cfg.Metrics.NewCounter(name("ringfeed_rest_retries_total"))
		c.mFail = cfg.Metrics.NewCounter(name("ringfeed_rest_failures_total"))
	}
	return c, nil
}

func inc(c *metrics.Counter) {
	if c != nil {
		c.Inc()
	}
}

// readCAs reads every certificate of a PEM file.
func readCAs(name string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("rest: RootCAFile: %w", err)
	}
	out, err := ParseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("rest: RootCAFile %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("rest: RootCAFile %s: no PEM certificate", name)
	}
	return out, nil
}

// ParseCertificates returns every CERTIFICATE block of the PEM bytes b,
// skipping blocks of other types (keys, parameters). It returns the
// x509 error of the first block that does not parse, and no error and no
// certificates when b holds none: the caller decides whether that is an
// error and how to name the file. The engine's CAFile loader uses it too,
// so that one PEM reader serves the REST and WebSocket trust roots.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out, nil
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

// URL returns the REST base the client calls.
func (c *Client) URL() string { return c.base }

// Stats are a client's cumulative counts.
type Stats struct {
	Requests int64 // HTTP requests sent (tries)
	Retries  int64 // tries after the first of a call
	Failures int64 // calls that returned an error
}

// Stats returns the client's counts.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Failures: c.failures.Load()}
}

// Delay returns the wait before try n+1 of a call (n >= 1): full jitter
// over min(BackoffCap, Backoff·2^(n-1)). It is the one backoff policy of
// every REST caller.
func (c *Client) Delay(n int) time.Duration {
	d := c.cfg.BackoffCap
	if n < 1 {
		n = 1
	}
	if n-1 < 30 {
		d = min(d, c.cfg.Backoff<<(n-1))
	}
	c.rngMu.Lock()
	j := time.Duration(c.rng.Int64N(int64(d) + 1))
	c.rngMu.Unlock()
	return j
}

// envelope is Bybit's v5 response wrapper; Result is decoded into the
// caller's type.
type envelope struct {
	RetCode *int            `json:"retCode"`
	RetMsg  string          `json:"retMsg"`
	Result  json.RawMessage `json:"result"`
	Time    int64           `json:"time"`
}

// get calls path with q under the retry policy and decodes result into
// out. It returns the envelope's time (server ms).
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) (int64, error) {
	var err error
	for try := 0; try < c.cfg.Tries; try++ {
		if try > 0 {
			c.retries.Add(1)
			inc(c.mRetry)
			if serr := Sleep(ctx, c.Delay(try)); serr != nil {
				err = errors.Join(err, serr)
				break
			}
		}
		var retry bool
		var ms int64
		ms, retry, err = c.once(ctx, path, q, out)
		if err == nil {
			return ms, nil
		}
		if !retry || ctx.Err() != nil {
			break
		}
	}
	c.failures.Add(1)
	inc(c.mFail)
	return 0, err
}

// once does one try. retry reports whether another try could help.
func (c *Client) once(ctx context.Context, path string, q url.Values, out any) (ms int64, retry bool, err error) {
	if until := c.banned.Load(); until != 0 && time.Now().UnixNano() < until {
		return 0, false, fmt.Errorf("%w: GET %s: paused until %s after an HTTP 403", ErrForbidden, path, time.Unix(0, until).UTC().Format(time.TimeOnly))
	}
	if err := c.lim.Wait(ctx); err != nil {
		return 0, false, err
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	c.requests.Add(1)
	inc(c.mReq)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, ctx.Err() == nil, fmt.Errorf("%w: GET %s: %v", ErrUnavailable, path, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusForbidden:
		c.banned.Store(time.Now().Add(c.cfg.BanPause).UnixNano())
		return 0, false, fmt.Errorf("%w: GET %s: %s", ErrForbidden, path, sample(body))
	case resp.StatusCode != http.StatusOK:
		retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return 0, retry, fmt.Errorf("%w: GET %s: HTTP %d", ErrUnavailable, path, resp.StatusCode)
	case err != nil:
		return 0, true, fmt.Errorf("%w: GET %s: reading body: %v", ErrUnavailable, path, err)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.RetCode == nil {
		return 0, false, fmt.Errorf("%w: GET %s: not a v5 envelope: %q", ErrUnavailable, path, sample(body))
	}
	if *env.RetCode != 0 {
		return 0, retryCodes[*env.RetCode], &APIError{Path: path, RetCode: *env.RetCode, RetMsg: env.RetMsg}
	}
	if out != nil {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return 0, false, fmt.Errorf("%w: GET %s: result: %v", ErrUnavailable, path, err)
		}
	}
	return env.Time, false, nil
}

func sample(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// Sleep waits d, or until ctx ends and then returns its cause. Every
// backoff in the module (REST retries, the session's reconnects and
// connect limiter, the soak's polls) waits through it, so a cancelled
// context ends each of them the same way.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
