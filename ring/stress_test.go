package ring

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// stress pushes n sequence numbers from one goroutine to another through a
// ring of the given capacity and checks every slot arrives once, in order,
// intact. The producer reserves batches of random size, abandons a random
// tail now and then with Rollback, and waits with ReserveWait; the consumer
// takes random prefixes of each batch and stalls now and then, so both the
// full and the empty waits run. It fails, instead of hanging, after limit.
func stress(t *testing.T, n uint64, capacity int, opts Options, limit time.Duration) {
	t.Helper()
	r := NewWithOptions[ev](capacity, opts)
	defer r.Close() // frees both goroutines if the test fails early
	deadline := time.Now().Add(limit)

	prodErr := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewPCG(1, uint64(capacity)))
		var seq uint64
		for seq < n {
			if time.Now().After(deadline) {
				prodErr <- fmt.Errorf("producer at %d of %d after %v", seq, n, limit)
				return
			}
			batch := 1 + rng.IntN(2*capacity)
			for range batch {
				if seq == n {
					break
				}
				s, err := r.ReserveWait(limit)
				if err != nil {
					prodErr <- fmt.Errorf("ReserveWait at %d: %v", seq, err)
					return
				}
				*s = ev{seq, chk(seq)}
				seq++
			}
			if k := rng.IntN(8); k < r.Reserved() && rng.IntN(4) == 0 {
				r.Rollback(k) // a half-parsed message is abandoned and re-sent
				seq -= uint64(k)
			}
			r.Publish()
		}
		r.Close()
		prodErr <- nil
	}()

	rng := rand.New(rand.NewPCG(2, uint64(capacity)))
	var want uint64
	for want <= n { // one more PeekWait than slots, for the ErrClosed
		b, err := r.PeekWait()
		if err == ErrClosed {
			break
		}
		if err != nil {
			t.Fatalf("PeekWait at %d: %v", want, err)
		}
		if len(b) > 1 && rng.IntN(2) == 0 {
			b = b[:1+rng.IntN(len(b))]
		}
		for _, e := range b {
			if e.Seq != want || e.Chk != chk(want) {
				t.Fatalf("got slot %+v; want Seq %d", e, want)
			}
			want++
		}
		r.Release(len(b))
		if rng.IntN(64) == 0 {
			runtime.Gosched() // let the ring fill
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer at %d of %d after %v", want, n, limit)
		}
	}
	if err := <-prodErr; err != nil {
		t.Fatal(err)
	}
	if want != n {
		t.Fatalf("consumed %d slots; want %d", want, n)
	}
}

// strategies are the wait strategies every stress run covers.
var strategies = []struct {
	name string
	opts Options
	// share of the slot count this strategy gets: parking is slow, and
	// two sides that both spin without ever yielding move a slot only
	// while the OS runs both threads at once, which on an oversubscribed
	// machine (make test beside a CPU hog) is a small share of the time.
	div uint64
}{
	{"spin", spinOpts, 20},
	{"park", parkOpts, 10},
	{"mixed", Options{Consumer: Spin, Producer: Park}, 4},
}

// TestStress is the version of TestNoRaceStress that runs under -race.
func TestStress(t *testing.T) {
	n := uint64(60_000)
	if testing.Short() {
		n /= 10
	}
	for _, s := range strategies {
		for _, c := range []int{1, 8, 256} {
			t.Run(fmt.Sprintf("%s/cap%d", s.name, c), func(t *testing.T) {
				m := n / s.div
				if c == 1 { // a handoff per slot: the slowest case under -race
					m /= 4
				}
				stress(t, m, c, s.opts, 20*time.Second)
			})
		}
	}
}
