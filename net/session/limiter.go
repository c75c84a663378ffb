package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ringfeed/ringfeed/net/rest"
)

// Limiter is a token bucket for new connections, shared by every session of
// a process so that together they stay under Bybit's limit of 500 new
// connections per 5 minutes per IP. It is safe for concurrent use. Wait is a
// cold-path call (once per connection attempt) and takes a mutex.
type Limiter struct {
	mu    sync.Mutex
	every time.Duration // one token per every
	burst time.Duration // burst × every
	tat   time.Time     // theoretical arrival time of the next token (GCRA)
}

// Bybit's limit on new connections (protocol notes §3.4): at most
// MaxConnects per ConnectWindow per IP, counted per WebSocket domain.
const (
	MaxConnects   = 500
	ConnectWindow = 5 * time.Minute
	// DefaultConnects is DefaultLimiter's budget per ConnectWindow: 80% of
	// Bybit's, leaving room for a restart of the process (whose new
	// limiter starts full) or another client on the same IP.
	DefaultConnects = 400
)

// DefaultLimiter is the limiter of sessions whose Config.Limiter is nil:
// NewWindowLimiter(DefaultConnects, ConnectWindow), a burst of 200 (100
// connections, 5,000 symbols, connect at once, at start or after a mass
// disconnect), then one connection per 1.5 s.
var DefaultLimiter = NewWindowLimiter(DefaultConnects, ConnectWindow)

// NewWindowLimiter returns a limiter that allows at most n connections in
// any window: a burst of n/2 at once, the other half spread evenly over the
// window (one per window/(n - n/2)). A client that waits for every token
// gets at most burst + window/every = n in any window. It panics if n < 2
// or window <= 0.
func NewWindowLimiter(n int, window time.Duration) *Limiter {
	if n < 2 {
		panic(fmt.Sprintf("session: NewWindowLimiter: n %d is below 2", n))
	}
	if window <= 0 {
		panic(fmt.Sprintf("session: NewWindowLimiter: window %v is not positive", window))
	}
	burst := n / 2
	return NewLimiter(burst, window/time.Duration(n-burst))
}

// NewLimiter returns a limiter allowing burst connections at once and one
// more per every after that. It panics if burst < 1 or every <= 0.
func NewLimiter(burst int, every time.Duration) *Limiter {
	if burst < 1 {
		panic(fmt.Sprintf("session: NewLimiter: burst %d is below 1", burst))
	}
	if every <= 0 {
		panic(fmt.Sprintf("session: NewLimiter: every %v is not positive", every))
	}
	return &Limiter{every: every, burst: time.Duration(burst) * every}
}

// reserve books the next token and returns how long to wait for it.
func (l *Limiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat := l.tat
	if tat.Before(now) {
		tat = now
	}
	tat = tat.Add(l.every)
	l.tat = tat
	return max(0, tat.Sub(now)-l.burst)
}

// Wait blocks until a connection may be made or ctx ends (then it returns
// ctx's cause; the token stays spent, which only errs on the safe side).
func (l *Limiter) Wait(ctx context.Context) error {
	d := l.reserve(time.Now())
	if d == 0 {
		return ctx.Err()
	}
	return rest.Sleep(ctx, d)
}

// backoff returns the full-jitter delay before attempt n (0-based):
// rand[0, min(cap, base·2^n)).
func backoff(base, cap time.Duration, n int) time.Duration {
	d := cap
	if n < 63 && base <= cap>>n {
		d = base << n
	}
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d)))
}
