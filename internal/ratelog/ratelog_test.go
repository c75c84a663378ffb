package ratelog

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	const every = 10 * time.Second
	var g Gate
	if ok, _ := g.Allow(1, every); !ok {
		t.Fatal("first line: got suppressed; want allowed")
	}
	for i := range 5 {
		if ok, _ := g.Allow(int64(2+i), every); ok {
			t.Fatal("line within every: got allowed; want suppressed")
		}
	}
	ok, n := g.Allow(1+int64(every), every)
	if !ok || n != 5 {
		t.Fatalf("after every: got %v, %d suppressed; want true, 5", ok, n)
	}
	if ok, n := g.Allow(1+2*int64(every), every); !ok || n != 0 {
		t.Fatalf("next period: got %v, %d suppressed; want true, 0", ok, n)
	}
}

// TestGateConcurrent: of many goroutines asking at the same instant one is
// let through and the others are counted.
func TestGateConcurrent(t *testing.T) {
	var g Gate
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if ok, _ := g.Allow(42, time.Second); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 1 {
		t.Fatalf("got %d lines let through at one instant; want 1", allowed)
	}
	if ok, n := g.Allow(42+int64(time.Second), time.Second); !ok || n != 799 {
		t.Fatalf("next period: got %v, %d suppressed; want true, 799", ok, n)
	}
}

func TestKeyed(t *testing.T) {
	var k Keyed
	f := func(key string, now int64, wantOK bool, wantN int64) {
		t.Helper()
		if ok, n := k.Allow(key, now, 5*time.Second); ok != wantOK || n != wantN {
			t.Errorf("Allow(%q, %d): got %v, %d; want %v, %d", key, now, ok, n, wantOK, wantN)
		}
	}
	f("stale:BTCUSDT", 1, true, 0)
	f("stale:ETHUSDT", 1, true, 0) // keys are independent
	f("stale:BTCUSDT", 2, false, 0)
	f("stale:BTCUSDT", 3, false, 0)
	f("stale:BTCUSDT", 1+int64(5*time.Second), true, 2)
	f("stale:ETHUSDT", 1+int64(5*time.Second), true, 0)
}

func ExampleGate() {
	var g Gate
	now := int64(time.Hour) // a monotonic clock reading, e.g. wsconn.Nanotime()
	for i := range 4 {
		if ok, n := g.Allow(now+int64(i)*int64(time.Second), 2*time.Second); ok {
			fmt.Printf("line %d logged, %d suppressed before it\n", i, n)
		}
	}
	// Output:
	// line 0 logged, 0 suppressed before it
	// line 2 logged, 1 suppressed before it
}

func BenchmarkGateAllow(b *testing.B) {
	var g Gate
	b.ReportAllocs()
	now := int64(time.Hour)
	for b.Loop() {
		now++
		g.Allow(now, time.Second)
	}
}
