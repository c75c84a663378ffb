package ring

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ev is the test slot: a sequence number and a value derived from it, so a
// torn or stale slot shows.
type ev struct {
	Seq uint64
	Chk uint64
}

func chk(seq uint64) uint64 { return seq*0x9E3779B97F4A7C15 ^ 0xABCD }

// parkOpts parks at once on both sides; spinOpts busy-polls on both.
var (
	parkOpts = Options{}
	spinOpts = Options{Consumer: Spin, Producer: Spin}
)

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		got := fmt.Sprint(recover())
		if !strings.Contains(got, want) {
			t.Errorf("panic %q; want it to contain %q", got, want)
		}
	}()
	f()
}

func TestNewPanics(t *testing.T) {
	f := func(capacity int, opts Options, want string) {
		t.Helper()
		mustPanic(t, want, func() { NewWithOptions[ev](capacity, opts) })
	}
	f(0, Options{}, "capacity 0 ")
	f(-4, Options{}, "capacity -4 ")
	f(3, Options{}, "capacity 3 ")
	f(6, Options{}, "capacity 6 ")
	f(1000, Options{}, "capacity 1000 ")
	f(8, Options{Consumer: 7}, "Consumer Mode(7)")
	f(8, Options{Producer: 9}, "Producer Mode(9)")
	mustPanic(t, "capacity 12 ", func() { New[ev](12) })
}

func TestNewCap(t *testing.T) {
	for _, c := range []int{1, 2, 64, 1 << 16} {
		r := New[ev](c)
		if got := r.Cap(); got != c {
			t.Errorf("Cap() = %d; want %d", got, c)
		}
		if got := r.Len(); got != 0 {
			t.Errorf("Len() = %d; want 0", got)
		}
	}
}

// push reserves, fills and publishes n slots starting at seq.
func push(t *testing.T, r *SPSC[ev], seq uint64, n int) {
	t.Helper()
	for i := range n {
		s := r.Reserve()
		if s == nil {
			t.Fatalf("Reserve() = nil at %d of %d (Len %d); want a slot", i, n, r.Len())
		}
		*s = ev{seq + uint64(i), chk(seq + uint64(i))}
	}
	r.Publish()
}

// pop peeks, checks and releases at most n slots expecting seq onwards, and
// returns how many it took.
func pop(t *testing.T, r *SPSC[ev], seq uint64, n int) int {
	t.Helper()
	b := r.Peek()
	if len(b) > n {
		b = b[:n]
	}
	for i, e := range b {
		if want := seq + uint64(i); e.Seq != want || e.Chk != chk(want) {
			t.Fatalf("slot %d = %+v; want Seq %d", i, e, want)
		}
	}
	r.Release(len(b))
	return len(b)
}

func TestReserveInvisibleUntilPublish(t *testing.T) {
	r := New[ev](8)
	s := r.Reserve()
	*s = ev{1, chk(1)}
	if b := r.Peek(); b != nil {
		t.Fatalf("Peek() = %v before Publish; want nil", b)
	}
	if got := r.Reserved(); got != 1 {
		t.Fatalf("Reserved() = %d; want 1", got)
	}
	if got := r.Len(); got != 0 {
		t.Fatalf("Len() = %d; want 0", got)
	}
	r.Publish()
	if got := r.Reserved(); got != 0 {
		t.Fatalf("Reserved() after Publish = %d; want 0", got)
	}
	b := r.Peek()
	if len(b) != 1 || b[0].Seq != 1 {
		t.Fatalf("Peek() = %v; want [{1 ...}]", b)
	}
	if &b[0] != s {
		t.Fatalf("Peek()[0] at %p; want the reserved slot %p (no copy)", &b[0], s)
	}
}

func TestFullAndEmpty(t *testing.T) {
	r := New[ev](4)
	if b := r.Peek(); b != nil {
		t.Fatalf("Peek() on empty = %v; want nil", b)
	}
	for i := range 4 {
		if r.Reserve() == nil {
			t.Fatalf("Reserve() #%d = nil; want a slot", i)
		}
	}
	// Reserved slots count against capacity even before Publish.
	if s := r.Reserve(); s != nil {
		t.Fatalf("Reserve() on a ring with 4 reserved = %p; want nil", s)
	}
	r.Publish()
	if s := r.Reserve(); s != nil {
		t.Fatalf("Reserve() on a full ring = %p; want nil", s)
	}
	if got := r.Len(); got != 4 {
		t.Fatalf("Len() = %d; want 4", got)
	}
	if got := len(r.Peek()); got != 4 {
		t.Fatalf("len(Peek()) = %d; want 4", got)
	}
	r.Release(1)
	if r.Reserve() == nil {
		t.Fatalf("Reserve() after Release(1) = nil; want a slot")
	}
	if s := r.Reserve(); s != nil {
		t.Fatalf("second Reserve() after Release(1) = %p; want nil", s)
	}
}

func TestWrapAround(t *testing.T) {
	// Capacity 8, batches of 3, and the consumer takes 2 at a time, so
	// every phase of the wrap point is crossed by both sides.
	r := New[ev](8)
	var in, out uint64
	for range 200 {
		if free := 8 - r.Len() - r.Reserved(); free >= 3 {
			push(t, r, in, 3)
			in += 3
		}
		out += uint64(pop(t, r, out, 2))
	}
	for r.Len() > 0 {
		out += uint64(pop(t, r, out, 8))
	}
	if out != in || in < 200 {
		t.Fatalf("consumed %d of %d; want all of at least 200", out, in)
	}
}

func TestPeekStopsAtWrapPoint(t *testing.T) {
	f := func(capacity int, first, second int, want []int) {
		t.Helper()
		r := New[ev](capacity)
		push(t, r, 0, first)
		if n := pop(t, r, 0, first); n != first {
			t.Fatalf("popped %d; want %d", n, first)
		}
		push(t, r, uint64(first), second)
		// Each Peek returns one contiguous batch; Release moves to the next.
		var got []int
		seq := uint64(first)
		for range 4 {
			n := pop(t, r, seq, capacity)
			if n == 0 {
				break
			}
			got = append(got, n)
			seq += uint64(n)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("cap %d, after %d then %d: batches %v; want %v", capacity, first, second, got, want)
		}
	}
	f(8, 5, 6, []int{3, 3})
	f(8, 5, 3, []int{3})
	f(8, 5, 8, []int{3, 5})
	f(8, 7, 1, []int{1})
	f(8, 7, 2, []int{1, 1})
	f(8, 8, 8, []int{8})
	f(1, 1, 1, []int{1})
	f(16, 0, 16, []int{16})
}

func TestPeekRepeatsUntilRelease(t *testing.T) {
	r := New[ev](8)
	push(t, r, 0, 3)
	a := r.Peek()
	push(t, r, 3, 2)
	// The consumer still holds slots it saw: no reload of the producer's
	// index, the same batch again.
	b := r.Peek()
	if len(b) != 3 || &b[0] != &a[0] {
		t.Fatalf("second Peek() = %d slots at %p; want 3 at %p", len(b), &b[0], &a[0])
	}
	if got := r.Len(); got != 5 {
		t.Fatalf("Len() = %d; want 5", got)
	}
	r.Release(2)
	if n := pop(t, r, 2, 8); n != 1 {
		t.Fatalf("popped %d after Release(2); want the 1 slot left of the batch", n)
	}
	if n := pop(t, r, 3, 8); n != 2 {
		t.Fatalf("popped %d; want 2 (reloaded)", n)
	}
}

func TestRollback(t *testing.T) {
	r := New[ev](8)
	push(t, r, 0, 2) // published: 0, 1
	for i := range 3 {
		*r.Reserve() = ev{100 + uint64(i), 0}
	}
	r.Rollback(2) // keep 100, abandon 101, 102
	if got := r.Reserved(); got != 1 {
		t.Fatalf("Reserved() after Rollback(2) = %d; want 1", got)
	}
	r.Rollback(0)
	s := r.Reserve() // hands out the slot 101 had
	if s.Seq != 101 {
		t.Fatalf("slot after Rollback holds Seq %d; want 101 (the abandoned slot, reused)", s.Seq)
	}
	*s = ev{200, 0}
	r.Publish()
	var got []uint64
	for _, e := range r.Peek() {
		got = append(got, e.Seq)
	}
	if want := "[0 1 100 200]"; fmt.Sprint(got) != want {
		t.Fatalf("published %v; want %s", got, want)
	}
	// Rollback(Reserved()) abandons everything since the last Publish.
	r.Reserve()
	r.Reserve()
	r.Rollback(r.Reserved())
	r.Publish()
	if got := r.Len(); got != 4 {
		t.Fatalf("Len() = %d; want 4", got)
	}
}

func TestMisusePanics(t *testing.T) {
	r := New[ev](8)
	push(t, r, 0, 2)
	r.Reserve()
	mustPanic(t, "Rollback(2) with 1 slots reserved", func() { r.Rollback(2) })
	mustPanic(t, "Rollback(-1)", func() { r.Rollback(-1) })
	r.Peek()
	mustPanic(t, "Release(3) with 2 slots published", func() { r.Release(3) })
	mustPanic(t, "Release(-1)", func() { r.Release(-1) })
	r.Release(0)
	if got := r.Len(); got != 2 {
		t.Fatalf("Len() after refused calls = %d; want 2", got)
	}
}

func TestReserveWaitPublishesPendingThenErrFull(t *testing.T) {
	for name, opts := range map[string]Options{"spin": spinOpts, "park": parkOpts} {
		t.Run(name, func(t *testing.T) {
			r := NewWithOptions[ev](4, opts)
			for range 4 {
				if _, err := r.ReserveWait(0); err != nil {
					t.Fatalf("ReserveWait(0) on room = %v; want nil", err)
				}
			}
			if got := r.Len(); got != 0 {
				t.Fatalf("Len() = %d; want 0 before the ring fills", got)
			}
			s, err := r.ReserveWait(2 * time.Millisecond)
			if s != nil || err != ErrFull {
				t.Fatalf("ReserveWait on full ring = %p, %v; want nil, ErrFull", s, err)
			}
			if got := r.Len(); got != 4 {
				t.Fatalf("Len() after ReserveWait = %d; want 4 (pending slots published)", got)
			}
			if s, err := r.ReserveWait(0); s != nil || err != ErrFull {
				t.Fatalf("ReserveWait(0) on full ring = %p, %v; want nil, ErrFull", s, err)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	r := New[ev](8)
	push(t, r, 0, 3)
	r.Close()
	r.Close() // idempotent
	if !r.Closed() {
		t.Fatal("Closed() = false after Close; want true")
	}
	if s := r.Reserve(); s != nil {
		t.Fatalf("Reserve() after Close = %p; want nil", s)
	}
	if _, err := r.ReserveWait(time.Second); err != ErrClosed {
		t.Fatalf("ReserveWait after Close = %v; want ErrClosed", err)
	}
	// The consumer drains what was published, then gets ErrClosed.
	b, err := r.PeekWait()
	if err != nil || len(b) != 3 {
		t.Fatalf("PeekWait after Close = %d slots, %v; want 3, nil", len(b), err)
	}
	r.Release(2)
	if b, err := r.PeekWait(); err != nil || len(b) != 1 || b[0].Seq != 2 {
		t.Fatalf("PeekWait = %v, %v; want [{2 ...}], nil", b, err)
	}
	r.Release(1)
	for range 2 {
		if b, err := r.PeekWait(); err != ErrClosed || b != nil {
			t.Fatalf("PeekWait on closed drained ring = %v, %v; want nil, ErrClosed", b, err)
		}
	}
}

func TestWakeBeforeWait(t *testing.T) {
	r := NewWithOptions[ev](8, spinOpts)
	r.Wake()
	push(t, r, 0, 1)
	// Slots come first; the wake is reported when the ring is empty.
	if b, err := r.PeekWait(); err != nil || len(b) != 1 {
		t.Fatalf("PeekWait = %d slots, %v; want 1, nil", len(b), err)
	}
	r.Release(1)
	if _, err := r.PeekWait(); err != ErrWoken {
		t.Fatalf("PeekWait on empty ring after Wake = %v; want ErrWoken", err)
	}
	// Reported once.
	push(t, r, 1, 1)
	if b, err := r.PeekWait(); err != nil || len(b) != 1 {
		t.Fatalf("PeekWait = %d slots, %v; want 1, nil", len(b), err)
	}
}

// waitFlag waits, at most 10 s, until the flag reads 1: the side is parked
// or about to be (it re-checks after setting the flag, then blocks).
func waitFlag(t *testing.T, name string, load func() uint32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s never parked within 10s", name)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// result is what a waiting goroutine reports.
type result struct {
	seq uint64
	n   int
	err error
}

// await returns the goroutine's result or fails after 10 s.
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("waiting goroutine not woken within 10s")
		return result{}
	}
}

func TestParkedConsumer(t *testing.T) {
	wake := map[string]func(r *SPSC[ev]) result{
		"Publish": func(r *SPSC[ev]) result {
			*r.Reserve() = ev{7, chk(7)}
			r.Publish()
			return result{seq: 7, n: 1}
		},
		"Close": func(r *SPSC[ev]) result { r.Close(); return result{err: ErrClosed} },
		"Wake":  func(r *SPSC[ev]) result { r.Wake(); return result{err: ErrWoken} },
	}
	for name, do := range wake {
		for oname, opts := range map[string]Options{"park": parkOpts, "shared-bell": {Bell: NewBell()}} {
			t.Run(name+"/"+oname, func(t *testing.T) {
				r := NewWithOptions[ev](8, opts)
				done := make(chan result, 1)
				go func() {
					b, err := r.PeekWait()
					res := result{n: len(b), err: err}
					if len(b) > 0 {
						res.seq = b[0].Seq
						r.Release(len(b))
					}
					done <- res
				}()
				waitFlag(t, "consumer", func() uint32 { return r.bell.parked.Load() })
				want := do(r)
				if got := await(t, done); got != want {
					t.Fatalf("PeekWait = %+v; want %+v", got, want)
				}
				r.Close()
			})
		}
	}
}

func TestParkedProducer(t *testing.T) {
	wake := map[string]func(r *SPSC[ev]) error{
		"Release": func(r *SPSC[ev]) error { r.Peek(); r.Release(1); return nil },
		"Close":   func(r *SPSC[ev]) error { r.Close(); return ErrClosed },
	}
	for name, do := range wake {
		for oname, opts := range map[string]Options{"park": parkOpts} {
			t.Run(name+"/"+oname, func(t *testing.T) {
				r := NewWithOptions[ev](4, opts)
				push(t, r, 0, 3)
				r.Reserve() // pending: ReserveWait must publish it first
				done := make(chan result, 1)
				go func() {
					s, err := r.ReserveWait(time.Hour)
					res := result{err: err}
					if s != nil {
						res.n = 1
					}
					done <- res
				}()
				waitFlag(t, "producer", r.prodParked.Load)
				if got := r.Len(); got != 4 {
					t.Fatalf("Len() while producer parked = %d; want 4", got)
				}
				want := do(r)
				got := await(t, done)
				if got.err != want || (want == nil) != (got.n == 1) {
					t.Fatalf("ReserveWait = %+v; want err %v", got, want)
				}
				r.Close()
			})
		}
	}
}

// TestParkedProducerTimesOut parks with a deadline no one beats.
func TestParkedProducerTimesOut(t *testing.T) {
	r := NewWithOptions[ev](2, parkOpts)
	push(t, r, 0, 2)
	for range 3 { // the reused timer must work more than once
		if s, err := r.ReserveWait(time.Millisecond); s != nil || !errors.Is(err, ErrFull) {
			t.Fatalf("ReserveWait = %p, %v; want nil, ErrFull", s, err)
		}
		if got := r.prodParked.Load(); got != 0 {
			t.Fatalf("prodParked after timeout = %d; want 0", got)
		}
	}
	r.Peek()
	r.Release(1)
	if _, err := r.ReserveWait(time.Millisecond); err != nil {
		t.Fatalf("ReserveWait after Release = %v; want nil", err)
	}
}

func TestParseMode(t *testing.T) {
	f := func(in string, want Mode, wantErr bool) {
		t.Helper()
		got, err := ParseMode(in)
		if (err != nil) != wantErr || (!wantErr && got != want) {
			t.Errorf("ParseMode(%q) = %v, %v; want %v (error %v)", in, got, err, want, wantErr)
		}
		if !wantErr && got.String() != in {
			t.Errorf("%v.String() = %q; want %q", got, got.String(), in)
		}
	}
	f("park", Park, false)
	f("spin", Spin, false)
	f("", 0, true)
	f("yield", 0, true)
	f("Spin", 0, true)
	if s := Mode(7).String(); s != "Mode(7)" {
		t.Errorf("Mode(7).String() = %q", s)
	}
}

// A Bell rung before Park leaves a token that ends the next Park at once;
// rung while nobody is parked it costs nothing and leaves none.
func TestBellTokens(t *testing.T) {
	b := NewBell()
	b.Ring() // nobody parked: no token
	done := make(chan struct{})
	go func() {
		b.Park(func() bool { return false })
		close(done)
	}()
	waitFlag(t, "bell", b.parked.Load)
	b.Ring()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Park not woken by Ring within 10s")
	}
	if b.Parked() {
		t.Error("Parked() after wake-up = true; want false")
	}
	// ready reporting work after the flag is set: no block.
	b.Park(func() bool { return true })
}

// PublishQuiet makes slots visible without ringing: a parked consumer stays
// parked (only a ring clears its flag) until the producer rings itself.
func TestPublishQuietLeavesConsumerParked(t *testing.T) {
	b := NewBell()
	r := NewWithOptions[ev](8, Options{Bell: b})
	done := make(chan struct{})
	go func() {
		b.Park(func() bool { return false })
		close(done)
	}()
	waitFlag(t, "consumer", b.parked.Load)
	*r.Reserve() = ev{3, chk(3)}
	if !r.PublishQuiet() {
		t.Fatal("PublishQuiet with a reserved slot = false; want true")
	}
	if r.PublishQuiet() {
		t.Error("PublishQuiet with nothing reserved = true; want false")
	}
	if !b.Parked() {
		t.Fatal("PublishQuiet woke the consumer")
	}
	// The slot is the consumer's to take, from whichever goroutine holds
	// that role now.
	if got := r.Peek(); len(got) != 1 || got[0].Seq != 3 {
		t.Fatalf("Peek after PublishQuiet = %v; want the one slot", got)
	}
	r.Release(1)
	b.Ring()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Park not woken by Ring within 10s")
	}
}
