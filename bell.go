package ringfeed

import (
	"sync/atomic"
	"time"
)

// bell is how a processor that owns several rings sleeps when all of them
// are empty, and how a reader wakes it. Ringing costs one atomic load when
// the processor is not parked, so readers ring after every publish.
// Lost wake-ups are impossible: the processor sets parked before its final
// look at the rings, and a reader publishes before it loads parked
// (sequentially consistent atomics order the two).
type bell struct {
	parked atomic.Int32
	ch     chan struct{} // capacity 1: a pending token
	timer  *time.Timer   // processor only
}

func newBell() *bell {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &bell{ch: make(chan struct{}, 1), timer: t}
}

// ring wakes the parked processor, if any. Any goroutine may call it.
func (b *bell) ring() {
	if b.parked.Load() != 0 && b.parked.CompareAndSwap(1, 0) {
		select {
		case b.ch <- struct{}{}:
		default:
		}
	}
}

// wait parks until ring is called or max passes, unless ready reports
// work after parked was set. Processor goroutine only.
func (b *bell) wait(ready func() bool, max time.Duration) {
	b.parked.Store(1)
	if ready() {
		b.parked.Store(0)
		return
	}
	b.timer.Reset(max)
	select {
	case <-b.ch:
	case <-b.timer.C:
	}
	b.timer.Stop()
	b.parked.Store(0)
}
