//go:build !race

package bybitsim

import (
	"testing"
	"time"
)

// TestTickAlloc: a generator step (market events, diffs, rendering,
// queueing) allocates nothing in steady state, for every workload.
func TestTickAlloc(t *testing.T) {
	for _, w := range workloads {
		t.Run(w.name, func(t *testing.T) {
			s := pausedServer(t, Config{Seed: 1, Rate: Rate{Mode: RateMax}, TimeScale: 6000, KlineHistory: 16, Level1Resend: time.Nanosecond})
			c := fakeConn(t, s, w.cat)
			fakeSubscribe(t, s, c, w.topics...)
			for range 3000 { // warm up: buffers reach their working size, candles roll
				s.Step(1)
				takeQueue(c)
			}
			allocs := testing.AllocsPerRun(500, func() {
				s.Step(1)
				takeQueue(c)
			})
			if allocs != 0 {
				t.Fatalf("got %v allocs per step; want 0", allocs)
			}
		})
	}
}

func TestAppendAlloc(t *testing.T) {
	buf := make([]byte, 0, 256)
	var sd side
	for k := range int64(100) {
		sd.set(k, k+1)
	}
	win := sd.window(nil, 50)
	mark := sd.nTouched
	ch := make([]level, 0, 100)
	payload := make([]byte, 300)
	for name, f := range map[string]func(){
		"appendFixed": func() { buf = appendFixed(buf[:0], 6500010, 2, false) },
		"appendUUID":  func() { buf = appendUUID(buf[:0], 1, 2) },
		"sync": func() {
			sd.set(99, sd.get(99)%7+1)
			ch = sd.sync(ch[:0], &win, 50, &mark)
		},
		"appendFrame":  func() { buf = appendFrame(buf[:0], 1, payload[:100], 0, false) },
		"fragmented":   func() { buf = appendFrame(buf[:0], 1, payload, 64, true) },
		"appendString": func() { buf = appendJSONString(buf[:0], "args size >10") },
	} {
		f()
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Fatalf("%s: got %v allocs; want 0", name, a)
		}
	}
}
