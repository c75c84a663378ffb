package cpubind

import (
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Pin binds the calling OS thread to cpu. The caller holds
// runtime.LockOSThread.
func Pin(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set)
}

// reserved is the process-wide record of CPUs held by Reserve.
var reserved struct {
	sync.Mutex
	base unix.CPUSet // the process's mask before the first reservation
	held map[int]int // bound thread id → its CPU
}

// Reserve binds the calling OS thread to cpu, as Pin does, and moves every
// other thread of the process to the CPUs no reservation holds. The
// returned release undoes it: it drops the reservation and gives the other
// threads, the released one among them, back every CPU not still
// reserved. The caller holds runtime.LockOSThread from Reserve to release.
func Reserve(cpu int) (release func(), err error) {
	tid := unix.Gettid()
	reserved.Lock()
	defer reserved.Unlock()
	if len(reserved.held) == 0 {
		// Nothing reserved: every thread still has the process's mask,
		// this one included until Pin below.
		if err := unix.SchedGetaffinity(0, &reserved.base); err != nil {
			return nil, err
		}
	}
	if err := Pin(cpu); err != nil {
		return nil, err
	}
	if reserved.held == nil {
		reserved.held = map[int]int{}
	}
	reserved.held[tid] = cpu
	moveOthers()
	return func() {
		reserved.Lock()
		defer reserved.Unlock()
		// The released thread is one of the others again. It gets their
		// mask here rather than by ending: a thread still alive with the
		// old binding (it ends after its goroutine has returned) would
		// pass it on to any thread it starts.
		delete(reserved.held, tid)
		moveOthers()
	}, nil
}

// moveOthers sets the mask of every thread but the bound ones to the base
// mask less the reserved CPUs (the base mask itself when nothing
// would be left). Two passes: a thread created during the first from one
// not yet moved inherits the old mask, and the second catches it.
// reserved is locked.
func moveOthers() {
	mask := reserved.base
	for _, cpu := range reserved.held {
		mask.Clear(cpu)
	}
	if mask.Count() == 0 {
		mask = reserved.base
	}
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return
		}
		for _, d := range tasks {
			id, err := strconv.Atoi(d.Name())
			if err != nil {
				continue
			}
			if _, bound := reserved.held[id]; bound {
				continue
			}
			_ = unix.SchedSetaffinity(id, &mask) // the thread may have ended
		}
	}
}

// Masks returns the CPU mask of every thread of the process, by thread id:
// for tests and diagnostics. A thread that ends during the walk is left out.
func Masks() (map[int]unix.CPUSet, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	m := make(map[int]unix.CPUSet, len(tasks))
	for _, d := range tasks {
		id, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		var set unix.CPUSet
		if unix.SchedGetaffinity(id, &set) == nil {
			m[id] = set
		}
	}
	return m, nil
}
