//go:build !linux

package bybitsim

import "time"

// pacer sleeps the generator between steps. Outside Linux it is a timer:
// sub-millisecond periods are kept only as well as the runtime's timers
// keep them.
type pacer struct {
	done <-chan struct{}
	t    *time.Timer
}

func newPacer(done <-chan struct{}) *pacer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &pacer{done: done, t: t}
}

// sleep sleeps d unless the server closes first; false when it closed.
func (p *pacer) sleep(d time.Duration) bool { return timerSleep(p.t, p.done, d) }

// close releases the pacer.
func (p *pacer) close() { p.t.Stop() }
