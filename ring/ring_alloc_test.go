//go:build !race

package ring

import (
	"sync"
	"testing"
	"time"
)

// allocs fails unless f allocates nothing.
func allocs(t *testing.T, name string, f func()) {
	t.Helper()
	if got := testing.AllocsPerRun(200, f); got != 0 {
		t.Errorf("%s: %v allocs per run; want 0", name, got)
	}
}

func TestAllocHotPath(t *testing.T) {
	r := New[ev](64)
	var sum uint64
	allocs(t, "Reserve+Publish+Peek+Release", func() {
		for i := range 40 {
			s := r.Reserve()
			s.Seq = uint64(i)
		}
		r.Publish()
		for b := r.Peek(); b != nil; b = r.Peek() {
			for _, e := range b {
				sum += e.Seq
			}
			r.Release(len(b))
		}
	})
	allocs(t, "Reserve+Rollback+Reserved+Len", func() {
		r.Reserve()
		r.Reserve()
		r.Rollback(r.Reserved() - 1)
		r.Publish()
		_ = r.Len()
		r.Peek()
		r.Release(1)
	})
	allocs(t, "Peek on empty", func() { r.Peek() })
	if sum == 0 {
		t.Fatal("nothing consumed")
	}
}

func TestAllocWaitsThatDoNotPark(t *testing.T) {
	r := New[ev](8)
	allocs(t, "ReserveWait and PeekWait with room and slots", func() {
		for range 5 {
			s, err := r.ReserveWait(time.Second)
			if err != nil {
				t.Fatal(err)
			}
			s.Seq = 1
		}
		r.Publish()
		for r.Len() > 0 { // one batch, or two across the wrap point
			b, err := r.PeekWait()
			if err != nil {
				t.Fatal(err)
			}
			r.Release(len(b))
		}
	})

	for name, opts := range map[string]Options{"spin": spinOpts, "park": parkOpts} {
		full := NewWithOptions[ev](2, opts)
		full.Reserve()
		full.Reserve()
		allocs(t, name+": ReserveWait to ErrFull", func() {
			if _, err := full.ReserveWait(20 * time.Microsecond); err != ErrFull {
				t.Fatalf("ReserveWait = %v; want ErrFull", err)
			}
		})
		full.Close()
		allocs(t, name+": ReserveWait and PeekWait when closed", func() {
			if _, err := full.ReserveWait(time.Second); err != ErrClosed {
				t.Fatalf("ReserveWait = %v; want ErrClosed", err)
			}
			b, _ := full.PeekWait()
			full.Release(len(b))
			if _, err := full.PeekWait(); err != ErrClosed {
				t.Fatalf("PeekWait = %v; want ErrClosed", err)
			}
		})
		empty := NewWithOptions[ev](2, opts)
		allocs(t, name+": PeekWait interrupted by Wake", func() {
			empty.Wake()
			if _, err := empty.PeekWait(); err != ErrWoken {
				t.Fatalf("PeekWait = %v; want ErrWoken", err)
			}
		})
	}
}

// TestAllocParkedHandoff parks and wakes across two goroutines: a ping-pong
// over two rings. Spin mode is left to TestAllocWaitsThatDoNotPark:
// AllocsPerRun sets GOMAXPROCS to 1, where each spinning hand-off waits for
// the scheduler to preempt the spinner (~10 ms). AllocsPerRun counts the
// echo goroutine's allocations too.
func TestAllocParkedHandoff(t *testing.T) {
	for name, opts := range map[string]Options{"park": parkOpts} {
		ping := NewWithOptions[ev](4, opts)
		pong := NewWithOptions[ev](4, opts)
		var wg sync.WaitGroup
		wg.Go(func() { echo(ping, pong) })
		var seq uint64
		allocs(t, name+": ping-pong", func() {
			seq++
			s, _ := ping.ReserveWait(time.Second)
			s.Seq = seq
			ping.Publish()
			b, err := pong.PeekWait()
			if err != nil || b[0].Seq != seq {
				t.Fatalf("PeekWait = %v, %v; want [{%d ...}]", b, err, seq)
			}
			pong.Release(1)
		})
		ping.Close()
		wg.Wait()
	}
}

// echo copies every slot of in to out until in is closed.
func echo(in, out *SPSC[ev]) {
	for {
		b, err := in.PeekWait()
		if err != nil {
			return
		}
		for _, e := range b {
			s, err := out.ReserveWait(time.Second)
			if err != nil {
				return
			}
			*s = e
		}
		out.Publish()
		in.Release(len(b))
	}
}
