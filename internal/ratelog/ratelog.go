// Package ratelog rate-limits log lines: one line of a kind per interval,
// the rest counted and reported with the next line let through. It is the
// one limiter of the module: the sessions keep a Gate per kind of bad
// input, the engine a Keyed set per symbol and kind.
//
// A Gate is lock-free and does not allocate, so a reader goroutine may
// consult it for every bad frame at line rate. Keyed takes a mutex and
// allocates once per new key; it serves cold paths (a book going stale, a
// hook over budget). Both are safe for concurrent use. Times are
// monotonic nanoseconds from the caller (wsconn.Nanotime), so tests can
// drive them.
package ratelog

import (
	"sync"
	"sync/atomic"
	"time"
)

// Gate lets one line through per interval and counts the rest. The zero
// value lets the first line through.
type Gate struct {
	last       atomic.Int64 // time of the last line let through; 0 = none yet
	suppressed atomic.Int64
}

// Allow reports whether a line may be logged at now, at most one per
// every, and how many were suppressed since the last one let through.
func (g *Gate) Allow(now int64, every time.Duration) (ok bool, suppressed int64) {
	last := g.last.Load()
	if last != 0 && now-last < int64(every) {
		g.suppressed.Add(1)
		return false, 0
	}
	// Read the count before taking the period: a line suppressed by a
	// goroutine that loses the race below is counted after the CAS, so it
	// goes to the next line let through, not this one (a Swap after the
	// CAS could take it, and this line would report lines of its own
	// period as suppressed before it).
	n := g.suppressed.Load()
	if !g.last.CompareAndSwap(last, now) {
		g.suppressed.Add(1) // another goroutine logs this one
		return false, 0
	}
	g.suppressed.Add(-n)
	return true, n
}

// Keyed is a Gate per key. The zero value is ready to use.
type Keyed struct {
	mu    sync.Mutex
	gates map[string]*Gate
}

// Allow is Gate.Allow for key's gate, created on first use.
func (k *Keyed) Allow(key string, now int64, every time.Duration) (ok bool, suppressed int64) {
	k.mu.Lock()
	g := k.gates[key]
	if g == nil {
		if k.gates == nil {
			k.gates = map[string]*Gate{}
		}
		g = &Gate{}
		k.gates[key] = g
	}
	k.mu.Unlock()
	return g.Allow(now, every)
}
