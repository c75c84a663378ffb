package rest

import (
	"context"
	"sync"
	"time"
)

// Bybit's REST budget (protocol notes §2.5): 600 requests per 5 s per IP.
// The default limiter keeps a margin for other programs on the host.
const (
	BybitLimit    = 600
	BybitWindow   = 5 * time.Second
	DefaultLimit  = 500
	DefaultWindow = BybitWindow
)

// Limiter admits at most n requests in any sliding window of length per:
// it remembers the start time of the last n requests in a ring and makes
// the next one wait until the oldest of them left the window. Unlike a
// token bucket it cannot admit a burst on top of a full window, which is
// what Bybit's fixed 5 s window would punish with a ban. Safe for
// concurrent use.
type Limiter struct {
	per time.Duration

	mu   sync.Mutex
	ring []int64 // start times (monotonic ns since base) of the last n requests
	next int     // oldest entry, overwritten by the next admission
	full bool
	base time.Time
}

// NewLimiter returns a limiter of n requests per window per. It panics if
// n < 1 or per <= 0.
func NewLimiter(n int, per time.Duration) *Limiter {
	if n < 1 || per <= 0 {
		panic("rest: NewLimiter: n must be >= 1 and per > 0")
	}
	return &Limiter{per: per, ring: make([]int64, n), base: time.Now()}
}

var (
	sharedOnce sync.Once
	shared     *Limiter
)

// Shared returns the process-wide limiter (DefaultLimit per DefaultWindow)
// that every Client uses unless its Config names another: Bybit counts per
// IP, so every caller in the process must draw from one budget.
func Shared() *Limiter {
	sharedOnce.Do(func() { shared = NewLimiter(DefaultLimit, DefaultWindow) })
	return shared
}

// reserve admits one request at now (ns on the limiter's clock) if the
// window has room and returns 0, or returns how long to wait before trying
// again. It is the whole policy, free of any clock, so tests drive it.
func (l *Limiter) reserve(now int64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full {
		if wait := l.ring[l.next] + int64(l.per) - now; wait > 0 {
			return time.Duration(wait)
		}
	}
	l.ring[l.next] = now
	l.next++
	if l.next == len(l.ring) {
		l.next = 0
		l.full = true
	}
	return 0
}

// Wait blocks until one request is admitted or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		wait := l.reserve(int64(time.Since(l.base)))
		if wait == 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}
