package cpubind

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// masks is Masks for a test: skipped where /proc is not there.
func masks(t *testing.T) map[int]unix.CPUSet {
	t.Helper()
	m, err := Masks()
	if err != nil {
		t.Skip(err)
	}
	return m
}

// onThread runs f on a locked thread of its own, which ends with it. f
// reports with t.Error (not t.Fatal: it is not the test's goroutine).
func onThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread ends here
		f()
	}()
	<-done
}

func baseMask(t *testing.T) unix.CPUSet {
	var base unix.CPUSet
	if err := unix.SchedGetaffinity(0, &base); err != nil {
		t.Skip(err)
	}
	if base.Count() < 2 {
		t.Skip("the test process may use one CPU only")
	}
	return base
}

func lastCPU(set unix.CPUSet) int {
	last := -1
	for i := range 1024 {
		if set.IsSet(i) {
			last = i
		}
	}
	return last
}

func TestReserveMovesOthersAndRelease(t *testing.T) {
	base := baseMask(t)
	cpu := lastCPU(base)
	onThread(func() {
		release, err := Reserve(cpu)
		if err != nil {
			t.Error(err)
			return
		}
		self := unix.Gettid()
		for id, set := range masks(t) {
			switch {
			case id == self:
				if set.Count() != 1 || !set.IsSet(cpu) {
					t.Errorf("bound thread: mask has %d CPUs, want only %d", set.Count(), cpu)
				}
			case set.IsSet(cpu):
				t.Errorf("thread %d may still run on reserved CPU %d", id, cpu)
			case set.Count() != base.Count()-1:
				t.Errorf("thread %d: %d CPUs, want the %d left over", id, set.Count(), base.Count()-1)
			}
		}
		release()
		// The released thread included: it is still alive, and would
		// pass a stale binding on to any thread it starts.
		for id, set := range masks(t) {
			if set != base {
				t.Errorf("thread %d after release: %d CPUs, want the process's %d back", id, set.Count(), base.Count())
			}
		}
	})
}

// Reserving every CPU leaves nothing to move the others to: they keep the
// process's mask, and the bound threads keep theirs.
func TestReserveEveryCPU(t *testing.T) {
	base := baseMask(t)
	if base.Count() != 2 {
		t.Skip("needs exactly two CPUs in the process's mask")
	}
	first := -1
	for i := range 1024 {
		if base.IsSet(i) {
			first = i
			break
		}
	}
	last := lastCPU(base)
	onThread(func() {
		releaseFirst, err := Reserve(first)
		if err != nil {
			t.Error(err)
			return
		}
		firstTid := unix.Gettid()
		onThread(func() {
			releaseLast, err := Reserve(last)
			if err != nil {
				t.Error(err)
				return
			}
			lastTid := unix.Gettid()
			for id, set := range masks(t) {
				switch id {
				case firstTid:
					if set.Count() != 1 || !set.IsSet(first) {
						t.Errorf("first bound thread lost its CPU %d", first)
					}
				case lastTid:
					if set.Count() != 1 || !set.IsSet(last) {
						t.Errorf("second bound thread lost its CPU %d", last)
					}
				default:
					if set != base {
						t.Errorf("thread %d: %d CPUs, want the process's %d (nothing left over)", id, set.Count(), base.Count())
					}
				}
			}
			releaseLast()
		})
		// The first reservation stands: the others are off its CPU again.
		for id, set := range masks(t) {
			if id != firstTid && set.IsSet(first) {
				t.Errorf("thread %d may run on CPU %d, still reserved", id, first)
			}
		}
		releaseFirst()
	})
	for id, set := range masks(t) {
		if set != base {
			t.Errorf("thread %d after every release: %d CPUs, want %d", id, set.Count(), base.Count())
		}
	}
}
