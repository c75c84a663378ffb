package ring

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Mode is how a side waits when it cannot proceed: the consumer on empty
// rings, the producer on a full one. There are two, and nothing in between
// (no yield loop, no spin-then-park window): bench/RESULTS.md ("Wait
// modes") has the measurements that left only these two standing.
type Mode uint8

const (
	// Park blocks at once on a Bell (consumer) or on the ring's producer
	// channel (producer) and costs nothing until woken. The wake is one
	// channel send by the other side; the woken goroutine runs as soon as
	// the scheduler finds it a P: the latency of a bare channel hand-off,
	// with no yield loop before it and no timer re-armed per park.
	Park Mode = iota
	// Spin busy-polls without ever yielding, parking or arming a timer.
	// It holds its P and its core for as long as it waits: meant for a
	// goroutine on a locked OS thread with a core of its own (the engine's
	// --wait spin processor), where the other side's store is seen within
	// a cache-line transfer.
	Spin
)

var modeNames = [...]string{"park", "spin"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", m)
}

// ParseMode reads "park" or "spin".
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if s == n {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("ring: wait mode %q: want park or spin", s)
}

// Options sets how each side of a ring waits. The zero value parks both
// sides on the ring's own bell and channel.
type Options struct {
	Consumer Mode // how PeekWait waits on an empty ring
	Producer Mode // how ReserveWait waits on a full ring
	// Bell is rung on every Publish, Close and Wake. A consumer that owns
	// several rings gives them one shared Bell and parks on it
	// (Bell.Park) when all are empty; nil gives the ring a bell of its
	// own, which PeekWait parks on.
	Bell *Bell
}

// DefaultOptions returns the options New uses: both sides park.
func DefaultOptions() Options { return Options{} }

func (m Mode) check(side string) {
	if m > Spin {
		panic(fmt.Sprintf("ring: Options.%s %v is not a wait mode", side, m))
	}
}

// Bell is where a consumer parks when it has nothing to do, and how
// producers (and anyone with work for it) wake it. Ring costs one atomic
// load when the consumer is not parked, so producers ring after every
// publish. A wake-up is never lost: Park sets the parked flag before the
// consumer's final look for work, and a waker makes its work visible
// before it loads the flag (sequentially consistent atomics order the two,
// Dekker style).
//
// A Bell has one parking goroutine at a time; any goroutine may Ring.
// Neither call allocates.
type Bell struct {
	parked atomic.Uint32
	ch     chan struct{} // capacity 1: a pending token
}

// NewBell returns a bell nobody is parked on.
func NewBell() *Bell { return &Bell{ch: make(chan struct{}, 1)} }

// Ring wakes the parked consumer, if any. Only the caller that clears the
// flag sends, so a burst of rings wakes it once.
func (b *Bell) Ring() {
	if b.parked.Load() != 0 {
		b.wake()
	}
}

func (b *Bell) wake() {
	if b.parked.CompareAndSwap(1, 0) {
		select {
		case b.ch <- struct{}{}:
		default: // a token is already waiting
		}
	}
}

// Park blocks until Ring is called, unless ready reports work once the
// parked flag is set. It has no timeout: whoever needs the consumer to run
// periodically rings it (the engine's housekeeping ticker). A token left by
// an earlier Ring may end a Park early; callers look for work after every
// return anyway.
func (b *Bell) Park(ready func() bool) {
	b.parked.Store(1)
	if ready() {
		b.parked.Store(0) // a waker that already cleared it left a token: harmless
		return
	}
	<-b.ch
	b.parked.Store(0)
}

// Parked reports whether the consumer is parked (or about to park): one
// atomic load. A producer that may do the consumer's work while it sleeps
// (see PublishQuiet) looks here first; tests and diagnostics too.
func (b *Bell) Parked() bool { return b.parked.Load() != 0 }

// spinCheck is how many polls pass between looks at the closed and wake
// flags and at the clock while spinning: a clock read costs tens of
// nanoseconds, a poll a few.
const spinCheck = 64

// PeekWait is Peek that waits, per Options.Consumer, for at least one
// published slot. It returns a non-empty batch and nil; or ErrClosed once the
// ring is closed and every slot published before was returned; or ErrWoken
// when Wake interrupted the wait. The batch is valid until Release.
// PeekWait does not allocate.
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

// Ready reports whether the consumer has something to do: a published
// slot, a close, or a pending Wake. Consumer side; it is what a consumer of
// several rings passes (for each) to Bell.Park.
func (r *SPSC[T]) Ready() bool {
	return r.tail.Load() != r.head.Load() || r.closed.Load() || r.wakeReq.Load()
}

func (r *SPSC[T]) peekSlow() ([]T, error) {
	if b, err := r.peekReady(); b != nil || err != nil {
		return b, err
	}
	if r.opts.Consumer == Spin {
		h := r.head.Load()
		for i := 1; ; i++ {
			if r.tail.Load() != h {
				return r.Peek(), nil
			}
			if i%spinCheck == 0 {
				if b, err := r.peekReady(); b != nil || err != nil {
					return b, err
				}
			}
		}
	}
	for {
		r.bell.Park(r.Ready)
		if b, err := r.peekReady(); b != nil || err != nil {
			return b, err
		}
	}
}

// ReserveWait is Reserve that waits, at most maxWait, for a free slot. When
// the ring is full or closed it first publishes the slots reserved so far, so
// the consumer can drain them, then waits per Options.Producer. It returns a slot
// and nil; ErrFull after maxWait (at once if maxWait <= 0), for the caller to
// apply its drop policy; or ErrClosed once the ring is closed. ReserveWait
// does not allocate. Parking arms the ring's one reused timer for the
// deadline: a full ring is the slow path, and the bound is what keeps a
// reader answering its socket.
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
	start := time.Now()
	if r.opts.Producer == Spin {
		for i := 1; ; i++ {
			if s := r.Reserve(); s != nil {
				return s, nil
			}
			if i%spinCheck == 0 {
				if r.closed.Load() {
					return nil, ErrClosed
				}
				if time.Since(start) >= maxWait {
					return nil, ErrFull
				}
			}
		}
	}
	for {
		left := maxWait - time.Since(start)
		if left <= 0 {
			return nil, ErrFull
		}
		// Dekker with Release and Close, as in Bell.Park.
		r.prodParked.Store(1)
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
