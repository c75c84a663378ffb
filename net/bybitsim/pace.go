package bybitsim

import "time"

// Pacing of RateTotal and RatePerStream.
//
// At high rates the generator's period is tens of microseconds (100k msgs/s
// over 8 streams: one step of 8 messages every 80 µs). A time.Sleep that
// short is not kept when the process is otherwise idle: the runtime's
// netpoller waits in whole milliseconds, so the sleep lasts ~1.1 ms and the
// pacer then catches up with a burst of ~110 messages. The generator
// therefore sleeps with a pacer (pace_linux.go: nanosleep on its own
// thread with a 1 ns timer slack) for waits up to preciseMax, and with a
// timer beyond that, so low rates behave as before and Close is seen within
// preciseMax.
const (
	// preciseMax is the longest wait the precise pacer sleeps in one go;
	// longer waits use a timer (which also wakes at once on Close).
	preciseMax = 2 * time.Millisecond
	// minPace is the shortest sleep between generator wake-ups, so a rate
	// above what one step per wake-up can carry turns into a few steps per
	// wake-up rather than a busy loop.
	minPace = 5 * time.Microsecond
	// maxStepsPerWake bounds the generator steps of one wake-up.
	maxStepsPerWake = 1000
	// idlePace is the sleep while nothing is subscribed (the step reports
	// idle): an idle server wakes 1000 times a second, as it always has.
	idlePace = time.Millisecond
)

// bucket is RateTotal's token bucket: tokens accrue at rate a second up to
// burst (10 ms worth); a generator step spends one token per message it
// queued, and runs only while a whole token is there. The average rate is
// exact whatever the wake-up times; a wake-up late by d catches up with
// about d×rate messages (at most burst).
type bucket struct {
	rate, burst, tokens float64
	last                int64 // ns, any monotonic origin
}

func newBucket(rate float64, now int64) bucket {
	return bucket{rate: rate, burst: max(rate/100, 1), tokens: 1, last: now}
}

// wake runs the generator steps due at now (step returns the messages it
// queued, -1 when there is nothing to publish) and returns how long to
// sleep before the next one is due, and the steps it ran.
func (b *bucket) wake(now int64, step func() int) (wait time.Duration, steps int) {
	b.tokens = min(b.tokens+float64(now-b.last)*b.rate/1e9, b.burst)
	b.last = now
	for ; b.tokens >= 1 && steps < maxStepsPerWake; steps++ {
		n := step()
		if n < 0 {
			b.tokens = min(b.tokens, 1) // idle: do not save up a burst
			return idlePace, steps + 1
		}
		b.tokens -= float64(n)
	}
	wait = time.Duration((1 - b.tokens) / b.rate * 1e9)
	return min(max(wait, minPace), 10*time.Millisecond), steps
}

// ticker is RatePerStream's clock: step k is due at start + k×period.
// Steps missed by more than 1000 periods are skipped, not caught up.
type ticker struct {
	period     time.Duration
	start      int64 // ns
	done       int64 // steps run
	maxCatchUp int64
}

func newTicker(perSecond float64, now int64) ticker {
	return ticker{period: max(time.Duration(float64(time.Second)/perSecond), 1), start: now, maxCatchUp: 1000}
}

// wake runs the steps due at now and returns how long to sleep until the
// next one, and the steps it ran.
func (t *ticker) wake(now int64, step func() int) (wait time.Duration, steps int) {
	due := (now - t.start) / int64(t.period)
	if due-t.done > t.maxCatchUp {
		t.done = due - t.maxCatchUp
	}
	idle := false
	for ; t.done < due; t.done++ {
		idle = step() < 0
		steps++
	}
	wait = time.Duration(t.start + (t.done+1)*int64(t.period) - now)
	if idle {
		wait = max(wait, idlePace)
	}
	return max(wait, minPace), steps
}

// timerSleep sleeps d on t (a stopped timer) unless done closes first; it
// reports false when done closed.
func timerSleep(t *time.Timer, done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	t.Reset(d)
	select {
	case <-t.C:
		return true
	case <-done:
		t.Stop()
		return false
	}
}
