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
// The stages trade CPU for latency. A spinning side sees the other's store
// within a few hundred nanoseconds but holds its core (it yields the P every
// few microseconds, see spinYield); a yielding side also stays runnable but
// lets other goroutines run; a parked side costs nothing until woken, and
// waking it costs the waker a channel send and the woken side tens of
// microseconds before another P runs it (BenchmarkHandoffLatency/park: p50
// 50µs on the 2-core dev box), unless the waker blocks first and hands over
// its own P.
//
// Spinning pays only while each spinning goroutine has a core to itself.
// On the 2-core dev box at load ~1, slots published every 20µs reached a
// spinning consumer in 155ns (p50; parked: 55µs, buffered channel: 50µs),
// and BenchmarkThroughput/16B/batch64 ran at 119M slots/s with the default
// options, 143M parked. On an oversubscribed machine the goroutine a spinner
// waits for may sit on a descheduled thread, and the spinner burns the time
// slice that thread needs: at load 8–14 the same benchmark ran at about
// 100M slots/s parked, 2–50M with the default and 0.1M with pure spin, and
// spinning consumers saw millisecond latencies. Set Spin 0 where this
// goroutine must not hold a core: GOMAXPROCS 1, a shared machine, or when
// another goroutine already spins (on two cores the engine lets at most one
// goroutine spin).
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
// a parked goroutine takes tens of microseconds to run again once woken, so
// spinning through a gap of up to 50µs hands the next batch over in well
// under a microsecond instead of paying a wake-up per read. Past 50µs the
// feed is idle enough that a wake-up costs less than a burning core.
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

// spinYield is how often a spinning side calls runtime.Gosched. The Go
// scheduler queues a goroutine that a side wakes on the waker's own P; if
// the waker then spins (the reader waiting on a full ring, a ping-pong), the
// woken goroutine would wait for the whole spin window, or for another P to
// steal it. Yielding every few microseconds bounds that wait at a cost of a
// few hundred nanoseconds per yield.
const spinYield = 4 * time.Microsecond

// spinning reports whether a side that began spinning at start should go on
// after the elapsed time, yielding the P when spinYield has passed since
// the last yield.
func spinning(start time.Time, window time.Duration, yielded *time.Duration) bool {
	el := time.Since(start)
	if el >= window {
		return false
	}
	if el-*yielded >= spinYield {
		runtime.Gosched()
		*yielded = el
	}
	return true
}

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
		var yielded time.Duration
		for i := 1; ; i++ {
			if r.tail.Load() != h {
				return r.Peek(), nil
			}
			if i%spinCheck == 0 {
				if b, err := r.peekReady(); b != nil || err != nil {
					return b, err
				}
				if !spinning(start, w.Spin, &yielded) {
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
		var yielded time.Duration
		for i := 1; ; i++ {
			if s := r.Reserve(); s != nil {
				return s, nil
			}
			if i%spinCheck == 0 {
				if r.closed.Load() {
					return nil, ErrClosed
				}
				if !spinning(start, spin, &yielded) {
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
