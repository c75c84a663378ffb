package ring

import (
	"fmt"
	"runtime"
	"time"
)

// Wait is how one side waits when it cannot proceed: the consumer on an
// empty ring (PeekWait), the producer on a full one (ReserveWait). It busy-
// polls for Spin, then calls runtime.Gosched Yield times, then parks until
// the other side wakes it; with NoPark it keeps yielding instead of parking.
//
// The stages trade CPU for latency. A spinning side notices the other's
// store within about a hundred nanoseconds but burns its core; a yield gives
// the core to other goroutines for a few hundred nanoseconds at a time; a
// parked side costs nothing until woken, and waking it costs the other side
// a channel send and tens of microseconds before it runs (see the "park"
// figures of BenchmarkHandoffLatency). Spin 0 skips spinning: set it on a
// machine where this goroutine must not hold a core, for example when
// GOMAXPROCS is 1, or when another goroutine already spins (on two cores the
// engine lets at most one goroutine spin).
type Wait struct {
	// Spin is how long to busy-poll before yielding. 0 means do not spin.
	Spin time.Duration
	// Yield is how many runtime.Gosched calls follow the spin before
	// parking. 0 parks right after the spin.
	Yield int
	// NoPark keeps yielding instead of parking once Yield calls are done.
	NoPark bool
}

// Options sets the wait strategy of each side of a ring.
type Options struct {
	Consumer Wait // how PeekWait waits on an empty ring
	Producer Wait // how ReserveWait waits on a full ring
}

// DefaultSpin is the spin window of DefaultOptions: 50µs. A busy linear
// connection (tens of symbols × book, trades and ticker, each book pushing
// every 10–20 ms) delivers a socket read every few tens of microseconds, and
// a parked goroutine takes tens of microseconds to wake, so spinning through
// a 50µs gap hands the next batch over in well under a microsecond instead
// of paying a wake-up for every read. Past 50µs the feed is idle enough that
// a wake-up's latency is the smaller cost than a burning core.
const DefaultSpin = 50 * time.Microsecond

// DefaultYield is the yield count of DefaultOptions: a few microseconds of
// runtime.Gosched after the spin, for a gap just longer than the spin
// window, before parking.
const DefaultYield = 16

// DefaultOptions returns the options New uses: both sides spin DefaultSpin,
// yield DefaultYield times, then park. Both sides may spin because they
// never wait at the same time: the consumer waits when the ring is empty,
// the producer when it is full.
func DefaultOptions() Options {
	w := Wait{Spin: DefaultSpin, Yield: DefaultYield}
	return Options{Consumer: w, Producer: w}
}

// check panics, naming the bad value, on a misconfigured side.
func (w Wait) check(side string) {
	if w.Spin < 0 {
		panic(fmt.Sprintf("ring: Options.%s.Spin %v is negative", side, w.Spin))
	}
	if w.Yield < 0 {
		panic(fmt.Sprintf("ring: Options.%s.Yield %d is negative", side, w.Yield))
	}
}

// spinCheck is how many polls pass between looks at the clock (and at the
// closed and wake flags) while spinning: a clock read costs tens of
// nanoseconds, a poll a few.
const spinCheck = 64

// PeekWait is Peek that waits, per Options.Consumer, for at least one
// published slot. It returns a non-empty batch and nil; or ErrClosed once the
// ring is closed and every slot published before was returned; or ErrWoken
// when Wake interrupted the wait. The batch is valid until Release. Unless it
// parks, PeekWait does not allocate.
func (r *SPSC[T]) PeekWait() ([]T, error) {
	if b := r.Peek(); b != nil {
		return b, nil
	}
	return r.peekSlow()
}

// peekReady returns a batch or a final error, or nil and nil when the
// consumer must keep waiting.
func (r *SPSC[T]) peekReady() ([]T, error) {
	if b := r.Peek(); b != nil {
		return b, nil
	}
	if r.closed.Load() {
		// Peek again: slots published just before Close count.
		if b := r.Peek(); b != nil {
			return b, nil
		}
		return nil, ErrClosed
	}
	if r.wakeReq.Load() && r.wakeReq.Swap(false) {
		return nil, ErrWoken
	}
	return nil, nil
}

func (r *SPSC[T]) peekSlow() ([]T, error) {
	w := &r.opts.Consumer
	if b, err := r.peekReady(); b != nil || err != nil {
		return b, err
	}
	if w.Spin > 0 {
		h := r.head.Load()
		start := time.Now()
		for i := 1; ; i++ {
			if r.tail.Load() != h {
				return r.Peek(), nil
			}
			if i%spinCheck == 0 {
				if b, err := r.peekReady(); b != nil || err != nil {
					return b, err
				}
				if time.Since(start) >= w.Spin {
					break
				}
			}
		}
	}
	for i := 0; i < w.Yield || w.NoPark; i++ {
		runtime.Gosched()
		if b, err := r.peekReady(); b != nil || err != nil {
			return b, err
		}
	}
	for {
		// Dekker with Publish, Close and Wake: set the flag, then look
		// again; they store first, then look at the flag.
		r.consParked.Store(1)
		if b, err := r.peekReady(); b != nil || err != nil {
			r.consParked.Store(0) // a waker that already cleared it left a token: harmless
			return b, err
		}
		<-r.consWake
		r.consParked.Store(0) // the token may be stale, left by an earlier wake
		if b, err := r.peekReady(); b != nil || err != nil {
			return b, err
		}
	}
}

// ReserveWait is Reserve that waits, at most maxWait, for a free slot. When
// the ring is full or closed it first publishes the slots reserved so far, so
// the consumer can drain them, then waits per Options.Producer. It returns a slot
// and nil; ErrFull after maxWait (at once if maxWait <= 0), for the caller to
// apply its drop policy; or ErrClosed once the ring is closed. Unless it
// parks, ReserveWait does not allocate.
func (r *SPSC[T]) ReserveWait(maxWait time.Duration) (*T, error) {
	if s := r.Reserve(); s != nil {
		return s, nil
	}
	return r.reserveSlow(maxWait)
}

// reserveReady returns a slot or ErrClosed, or nil and nil when the
// producer must keep waiting.
func (r *SPSC[T]) reserveReady() (*T, error) {
	if s := r.Reserve(); s != nil {
		return s, nil
	}
	if r.closed.Load() {
		return nil, ErrClosed
	}
	return nil, nil
}

func (r *SPSC[T]) reserveSlow(maxWait time.Duration) (*T, error) {
	r.Publish()
	if s, err := r.reserveReady(); s != nil || err != nil {
		return s, err
	}
	if maxWait <= 0 {
		return nil, ErrFull
	}
	w := &r.opts.Producer
	start := time.Now()
	if spin := min(w.Spin, maxWait); spin > 0 {
		for i := 1; ; i++ {
			if s := r.Reserve(); s != nil {
				return s, nil
			}
			if i%spinCheck == 0 {
				if r.closed.Load() {
					return nil, ErrClosed
				}
				if time.Since(start) >= spin {
					break
				}
			}
		}
	}
	for i := 0; i < w.Yield || w.NoPark; i++ {
		if time.Since(start) >= maxWait {
			return nil, ErrFull
		}
		runtime.Gosched()
		if s, err := r.reserveReady(); s != nil || err != nil {
			return s, err
		}
	}
	for {
		left := maxWait - time.Since(start)
		if left <= 0 {
			return nil, ErrFull
		}
		r.prodParked.Store(1) // Dekker with Release and Close, as in peekSlow
		if s, err := r.reserveReady(); s != nil || err != nil {
			r.prodParked.Store(0)
			return s, err
		}
		r.timer.Reset(left)
		select {
		case <-r.prodWake:
		case <-r.timer.C:
		}
		r.timer.Stop()
		r.prodParked.Store(0)
		if s, err := r.reserveReady(); s != nil || err != nil {
			return s, err
		}
	}
}
