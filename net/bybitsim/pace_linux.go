//go:build linux

package bybitsim

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// pacer sleeps the generator between steps. On Linux it locks the
// generator goroutine to its OS thread, sets that thread's timer slack to
// 1 ns (the default, 50 µs, lets the kernel defer a wake-up that long) and
// sleeps waits up to preciseMax with nanosleep, which wakes within tens of
// microseconds of the due time (~30 µs late on the development VM, which
// the token bucket absorbs) instead of the runtime timer's ~1.1 ms. Longer
// waits use a timer. The sleep holds a thread, not a core.
//
// A nanosleep is a system call, so the runtime keeps the goroutine's P
// with it until sysmon hands the P off: a goroutine the step readied (a
// connection writer) runs at once on another idle P, but waits for that
// hand-off when every other P is busy.
type pacer struct {
	done    <-chan struct{}
	t       *time.Timer
	ts      unix.Timespec
	precise bool
}

// newPacer must be called on the goroutine that sleeps, and close on the
// same goroutine when it is done.
func newPacer(done <-chan struct{}) *pacer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	p := &pacer{done: done, t: t}
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0); err != nil {
		runtime.UnlockOSThread()
		return p // timers only
	}
	p.precise = true
	return p
}

// sleep sleeps d unless the server closes first (noticed within
// preciseMax); it reports false when the server closed.
func (p *pacer) sleep(d time.Duration) bool {
	if !p.precise || d > preciseMax {
		return timerSleep(p.t, p.done, d)
	}
	select {
	case <-p.done:
		return false
	default:
	}
	p.ts = unix.NsecToTimespec(int64(d))
	for range 100 { // EINTR: sleep what is left
		if err := unix.Nanosleep(&p.ts, &p.ts); err != unix.EINTR {
			break
		}
	}
	return true
}

// close restores the thread's default timer slack and unlocks it.
func (p *pacer) close() {
	p.t.Stop()
	if p.precise {
		_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 0, 0, 0, 0)
		runtime.UnlockOSThread()
	}
}
