// Package ring carries parsed events from a connection's reader goroutine to
// its processor goroutine: a lock-free single-producer single-consumer ring
// of preallocated, fixed-size slots.
//
// # Allocation
//
// New allocates the slot array (capacity × size of T) and a few words of
// bookkeeping once. No operation allocates afterwards: not Reserve, Publish,
// Peek or Release, not the waits (spinning, yielding or parking), not Close.
// Every page of the slot array is faulted in by New (newSlots): a ring is
// written slot after slot, and a page first touched by the reader would
// cost a page fault on its path during the ring's whole first lap.
//
// # Ownership
//
// The producer fills a slot in place through the *T that Reserve returns, so
// a large event is never copied; the pointer is the producer's until Publish
// (or Rollback). After Publish the slot belongs to the consumer: the []T that
// Peek returns aliases the slot array and is valid until the consumer
// Releases those slots, after which the producer reuses them. Slots are never
// zeroed: a reserved slot holds what its previous occupant left, so the
// producer overwrites every field the consumer reads. T is meant to be a
// value type; a pointer left in a released slot keeps its target alive until
// the slot is overwritten.
//
// # Concurrency
//
// One producer goroutine calls Reserve, ReserveWait, Publish, PublishQuiet,
// Rollback and Reserved; one consumer goroutine calls Peek, PeekWait and
// Release. Len, Cap, Close, Closed and Wake are safe from any goroutine. A
// role may pass to another goroutine only across a happens-before edge (a
// reader that exits and is restarted, or the engine's consumer role handed
// between a processor and its readers under an atomic flag).
//
// # Latency
//
// Reserve, Publish, Peek and Release take a few nanoseconds: no lock, no
// channel, no syscall. The producer's index and the consumer's index live on
// their own 128-byte blocks (two cache lines, because the adjacent-line
// prefetcher pulls lines in pairs), and each side keeps a private cached copy
// of the other's index, so it loads the other's line only when that copy
// says the ring is full (producer) or empty (consumer). Publish stores the
// index and then rings the consumer's Bell (one load of its "parked" flag);
// Release does the same for the producer. Both are sequentially consistent
// atomics, so a side that parks (flag set, then re-check) and the other
// side's store cannot miss each other, and when nobody is parked the wake-up
// costs one load of a line that stays shared. Waking a parked goroutine costs
// a channel send and the scheduler's time to run it; the wait Mode (Options)
// decides whether a side parks or busy-polls.
//
// Batching: the reader reserves one slot per message and publishes once per
// socket read; the processor takes whatever Peek returns (up to the wrap
// point of the array) and releases it in one call.
package ring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Errors returned by the waiting calls. They are sentinels: compare with ==
// or errors.Is; returning them does not allocate.
var (
	// ErrFull is returned by ReserveWait when no slot became free within
	// maxWait. The caller applies its drop policy.
	ErrFull = errors.New("ring: full")
	// ErrClosed is returned by ReserveWait once the ring is closed, and by
	// PeekWait once it is closed and every published slot was returned.
	ErrClosed = errors.New("ring: closed")
	// ErrWoken is returned by PeekWait when Wake interrupted a wait on an
	// empty ring, so the consumer can serve other work.
	ErrWoken = errors.New("ring: woken")
)

// pad is the size of the block each side's hot fields get to themselves:
// two 64-byte lines, because Intel's adjacent-line prefetcher fetches lines
// in 128-byte aligned pairs. The pads are a full 128 bytes, not 128 minus
// the fields, so the blocks stay apart whatever the struct's alignment.
const pad = 128

// SPSC is a single-producer single-consumer ring of Cap() slots of type T.
// Create it with New or NewWithOptions; the zero value is not usable.
// See the package comment for the ownership and concurrency contract.
type SPSC[T any] struct {
	_ [pad]byte

	// Each index the other side reads has a block of its own, apart from
	// its owner's private cursor: the producer writes next on every
	// Reserve, and a consumer spinning on tail must not pull that line
	// away each time; tail itself changes once per Publish.
	tail atomic.Uint64 // slots published so far; written by the producer
	_    [pad]byte
	head atomic.Uint64 // slots released so far; written by the consumer
	_    [pad]byte

	// Producer's private block.
	next       uint64 // reserve cursor; next-tail slots are reserved
	cachedHead uint64 // head as the producer last loaded it
	_          [pad]byte

	// Consumer's private block.
	cachedTail uint64 // tail as the consumer last loaded it
	_          [pad]byte

	// Read-mostly block: set at construction, or written on slow paths only
	// (a side parking, Close, Wake), so both sides keep it in their caches.
	slots      []T
	mask       uint64
	opts       Options
	bell       *Bell         // rung on Publish, Close and Wake; the consumer parks on it
	prodParked atomic.Uint32 // 1 while the producer is (about to be) parked
	closed     atomic.Bool
	wakeReq    atomic.Bool   // Wake was called and not yet reported
	prodWake   chan struct{} // capacity 1: a token wakes the parked producer
	timer      *time.Timer   // producer's park deadline, reused
	_          [pad]byte
}

// New returns a ring of capacity slots with DefaultOptions. It panics if
// capacity is not a power of two greater than zero.
func New[T any](capacity int) *SPSC[T] {
	return NewWithOptions[T](capacity, DefaultOptions())
}

// NewWithOptions returns a ring of capacity slots that waits as opts says.
// It panics if capacity is not a power of two greater than zero, or if opts
// names an unknown wait mode.
func NewWithOptions[T any](capacity int, opts Options) *SPSC[T] {
	if capacity <= 0 || capacity&(capacity-1) != 0 {
		panic(fmt.Sprintf("ring: capacity %d is not a power of two greater than zero", capacity))
	}
	opts.Consumer.check("Consumer")
	opts.Producer.check("Producer")
	r := &SPSC[T]{
		mask:     uint64(capacity - 1),
		opts:     opts,
		bell:     opts.Bell,
		prodWake: make(chan struct{}, 1),
		timer:    time.NewTimer(time.Hour),
	}
	if r.bell == nil {
		r.bell = NewBell()
	}
	r.slots = newSlots[T](capacity)
	r.timer.Stop()
	return r
}

// Cap returns the number of slots.
func (r *SPSC[T]) Cap() int { return len(r.slots) }

// Len returns the number of published slots not yet released. Any goroutine
// may call it; from a third goroutine the figure is a snapshot.
func (r *SPSC[T]) Len() int {
	h := r.head.Load() // head first: tail loaded later is never behind it
	n := r.tail.Load() - h
	if n > uint64(len(r.slots)) { // head moved on between the loads
		n = uint64(len(r.slots))
	}
	return int(n)
}

// Close marks the ring closed and wakes a parked producer or consumer. After
// Close, Reserve returns nil and ReserveWait returns ErrClosed; the consumer
// still gets every slot published before Close, then ErrClosed from PeekWait.
// The producer publishes before it closes: slots published after the
// consumer has seen ErrClosed are never consumed. Close is idempotent and
// never blocks; any goroutine may call it.
func (r *SPSC[T]) Close() {
	r.closed.Store(true)
	r.bell.Ring()
	r.wakeProducer()
}

// Closed reports whether Close was called.
func (r *SPSC[T]) Closed() bool { return r.closed.Load() }

// Wake makes the consumer's PeekWait return ErrWoken instead of waiting on an
// empty ring: now, if it is waiting, or at its next wait otherwise. A
// consumer that finds slots gets them first. Use it to have the processor
// serve a request between batches. Any goroutine may call it.
func (r *SPSC[T]) Wake() {
	r.wakeReq.Store(true)
	r.bell.Ring()
}

// Reserve returns the next free slot for the producer to fill in place, or
// nil when the ring is full or closed. Reserved slots are invisible to the
// consumer until Publish; the pointer is valid until then (or Rollback).
// It does not block and does not allocate.
func (r *SPSC[T]) Reserve() *T {
	if r.closed.Load() {
		return nil
	}
	n := r.next
	if n-r.cachedHead > r.mask {
		r.cachedHead = r.head.Load()
		if n-r.cachedHead > r.mask {
			return nil
		}
	}
	r.next = n + 1
	return &r.slots[n&r.mask]
}

// Reserved returns the number of slots reserved and not yet published.
func (r *SPSC[T]) Reserved() int { return int(r.next - r.tail.Load()) }

// Publish makes every reserved slot visible to the consumer, in reserve
// order, and wakes the consumer if it is parked. With nothing reserved it is
// a no-op. The reader calls it once per socket read, not once per message.
func (r *SPSC[T]) Publish() {
	if r.PublishQuiet() {
		r.bell.Ring()
	}
}

// PublishQuiet is Publish without ringing the bell; it reports whether it
// published anything. It is for a producer that may consume what it
// publishes while the consumer is parked (the engine's park mode lets a
// reader apply its own messages then) and rings the bell itself when it
// does not.
func (r *SPSC[T]) PublishQuiet() bool {
	n := r.next
	if n == r.tail.Load() {
		return false
	}
	r.tail.Store(n)
	return true
}

// Rollback abandons the n most recently reserved slots, which the next
// Reserve calls hand out again: the reader drops a half-parsed message this
// way. Rollback(r.Reserved()) abandons everything reserved since the last
// Publish. It panics if n is negative or more than Reserved().
func (r *SPSC[T]) Rollback(n int) {
	if uint64(n) > r.next-r.tail.Load() { // a negative n is huge as uint64
		panicCount("Rollback", n, r.Reserved(), "reserved")
	}
	r.next -= uint64(n)
}

// Peek returns a contiguous batch of published slots the consumer has not
// released, or nil when there are none. The batch stops at the end of the
// slot array (the next Peek after Release continues from the start), and it
// holds the slots published when the consumer last loaded the producer's
// index: Peek reloads it only once those are all released, so a batch may
// be shorter than Len. The slice aliases the ring and is valid until
// Release; the consumer may read and modify the slots in place. Peek does
// not block or allocate; called again without Release it returns the same
// slots.
func (r *SPSC[T]) Peek() []T {
	h := r.head.Load()
	t := r.cachedTail
	if t == h {
		t = r.tail.Load()
		if t == h {
			return nil
		}
		r.cachedTail = t
	}
	i := h & r.mask
	end := i + (t - h)
	if end > uint64(len(r.slots)) {
		end = uint64(len(r.slots))
	}
	return r.slots[i:end:end]
}

// Release hands the n oldest published slots back to the producer, which may
// overwrite them from then on, and wakes the producer if it is parked on a
// full ring. It panics if n is negative or more than the consumer has seen
// published (through Peek or PeekWait).
func (r *SPSC[T]) Release(n int) {
	if n == 0 {
		return
	}
	h := r.head.Load()
	if uint64(n) > r.cachedTail-h {
		panicCount("Release", n, int(r.cachedTail-h), "published")
	}
	r.head.Store(h + uint64(n))
	if r.prodParked.Load() != 0 {
		r.wakeProducer()
	}
}

// wakeProducer sends the parked producer a token. Only the caller that
// clears the flag sends, so a burst of Release calls wakes it once.
func (r *SPSC[T]) wakeProducer() {
	if r.prodParked.CompareAndSwap(1, 0) {
		select {
		case r.prodWake <- struct{}{}:
		default:
		}
	}
}

// panicCount reports a count the caller may not pass. It is a separate
// function so the formatting stays off the inlined hot paths.
//
//go:noinline
func panicCount(op string, n, limit int, what string) {
	panic(fmt.Sprintf("ring: %s(%d) with %d slots %s", op, n, limit, what))
}
