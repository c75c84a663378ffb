package bybitsim

import (
	"math"
	"runtime"
	"testing"
	"time"
)

// simPace runs a pacer's wake function against a simulated clock for d:
// the pacer wakes late by late(i) after the i-th sleep. It returns the
// messages queued, the steps run at each wake-up and the sleeps asked for.
func simPace(wake func(now int64, step func() int) (time.Duration, int), perStep int, d time.Duration,
	late func(i int) time.Duration) (msgs int, steps []int, waits []time.Duration) {
	step := func() int { msgs += perStep; return perStep }
	for now, i := int64(0), 0; now < int64(d); i++ {
		w, n := wake(now, step)
		steps, waits = append(steps, n), append(waits, w)
		now += int64(w + late(i))
	}
	return msgs, steps, waits
}

func onTime(int) time.Duration { return 0 }

// At 100k msgs/s and 8 messages a step (the e2e latency workload), a pacer
// that wakes when asked runs one step per wake-up, every 80 µs, and the
// rate is exact: a steady stream, not bursts.
func TestBucketSteady(t *testing.T) {
	b := newBucket(1e5, 0)
	msgs, steps, waits := simPace(b.wake, 8, time.Second, onTime)
	if math.Abs(float64(msgs)-1e5) > 16 {
		t.Errorf("%d messages in 1 s at 100k msgs/s", msgs)
	}
	for i, n := range steps {
		if n > 1 {
			t.Fatalf("wake-up %d ran %d steps; want at most 1", i, n)
		}
	}
	for i, w := range waits[1:] {
		if w < 70*time.Microsecond || w > 90*time.Microsecond {
			t.Fatalf("sleep %d is %v; want ~80µs", i+1, w)
		}
	}
}

// A wake-up late by d catches up with d×rate messages (the rate stays
// exact), bounded by the bucket's burst (10 ms worth) and maxStepsPerWake.
func TestBucketLateWakeUp(t *testing.T) {
	for _, lateBy := range []time.Duration{30 * time.Microsecond, time.Millisecond, 50 * time.Millisecond} {
		b := newBucket(1e5, 0)
		late := func(i int) time.Duration {
			if i%10 == 9 {
				return lateBy
			}
			return 0
		}
		msgs, steps, _ := simPace(b.wake, 8, 2*time.Second, late)
		limit := int(math.Ceil(float64(min(lateBy, 10*time.Millisecond))*1e5/1e9/8)) + 2
		for i, n := range steps {
			if n > limit {
				t.Fatalf("late by %v: wake-up %d ran %d steps; want at most %d", lateBy, i, n, limit)
			}
		}
		if lateBy <= 10*time.Millisecond && math.Abs(float64(msgs)-2e5) > 1000 {
			t.Errorf("late by %v: %d messages in 2 s at 100k msgs/s", lateBy, msgs)
		}
	}
}

// A rate above one step per minPace runs several steps per wake-up, never
// more than maxStepsPerWake, and never asks for a sleep under minPace.
func TestBucketHighRate(t *testing.T) {
	b := newBucket(1e7, 0)
	msgs, steps, waits := simPace(b.wake, 8, 100*time.Millisecond, onTime)
	if math.Abs(float64(msgs)-1e6) > 1e6/100 {
		t.Errorf("%d messages in 100 ms at 10M msgs/s", msgs)
	}
	for i := range steps {
		if steps[i] > maxStepsPerWake || waits[i] < minPace {
			t.Fatalf("wake-up %d: %d steps, sleep %v", i, steps[i], waits[i])
		}
	}
}

// While nothing is subscribed the generator sleeps idlePace and saves up no
// burst for when a subscription arrives.
func TestBucketIdle(t *testing.T) {
	b := newBucket(1e5, 0)
	idle := func() int { return -1 }
	for now := int64(0); now < int64(time.Second); {
		w, n := b.wake(now, idle)
		if w != idlePace || n != 1 {
			t.Fatalf("idle wake-up: sleep %v, %d steps", w, n)
		}
		now += int64(w)
	}
	if b.tokens > 1 {
		t.Fatalf("%v tokens saved up while idle", b.tokens)
	}
}

// RatePerStream: one step per period, on time; a late wake-up runs the
// missed steps (at most maxCatchUp); idle sleeps at least idlePace.
func TestTickerPacing(t *testing.T) {
	tk := newTicker(10000, 0)
	msgs, steps, waits := simPace(tk.wake, 8, time.Second, onTime)
	if msgs < 8*9999 || msgs > 8*10001 {
		t.Errorf("%d messages in 1 s at 10k steps/s of 8", msgs)
	}
	for i := range steps {
		if steps[i] > 1 || (i > 0 && waits[i] != 100*time.Microsecond) {
			t.Fatalf("wake-up %d: %d steps, sleep %v; want 1 step, 100µs", i, steps[i], waits[i])
		}
	}
	tk = newTicker(10000, 0)
	if _, n := tk.wake(int64(time.Hour), func() int { return 8 }); n != int(tk.maxCatchUp) {
		t.Errorf("after an hour asleep: %d steps; want %d", n, tk.maxCatchUp)
	}
	tk = newTicker(1e6, 0)
	if w, _ := tk.wake(int64(time.Millisecond), func() int { return -1 }); w < idlePace {
		t.Errorf("idle: sleep %v; want >= %v", w, idlePace)
	}
}

// The pacer returns false once the server is closing, for short (precise)
// and long (timer) sleeps alike, and releases its thread on close.
func TestPacerStopsOnClose(t *testing.T) {
	done := make(chan struct{})
	ok := make(chan bool)
	go func() {
		p := newPacer(done)
		defer p.close()
		if !p.sleep(10 * time.Microsecond) {
			t.Error("sleep reported close before Close")
		}
		close(done)
		ok <- !p.sleep(time.Hour) && !p.sleep(time.Microsecond) && !p.sleep(0)
	}()
	if !<-ok {
		t.Error("sleep after Close did not report it")
	}
}

// Servers at RateTotal and RatePerStream publish to a subscriber and stop
// every goroutine on Close (the generator's locked thread included).
func TestRatePacedServers(t *testing.T) {
	for _, r := range []Rate{{Mode: RateTotal, PerSecond: 1e5}, {Mode: RatePerStream, PerSecond: 2000}, {Mode: RateTotal, PerSecond: 5}} {
		t.Run(r.String(), func(t *testing.T) {
			before := runtime.NumGoroutine()
			s, err := Start(Config{Seed: 3, Rate: r})
			if err != nil {
				t.Fatal(err)
			}
			cl := dial(t, s.URL("linear"))
			cl.send(subscribeMsg("orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"))
			cl.nextAck()
			for range 3 {
				cl.next() // snapshot, then paced data
			}
			_ = s.Close()
			cl.close()
			deadline := time.Now().Add(waitLong)
			for runtime.NumGoroutine() > before {
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<20)
					t.Fatalf("%d goroutines after Close; %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
