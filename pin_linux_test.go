package ringfeed

import (
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ringfeed/ringfeed/internal/cpubind"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/ring"
)

// A spinning processor bound to a CPU (--cpus) must take the binding with
// it when the engine stops: its thread used to be unlocked and handed back
// to the runtime, so whatever goroutine ran on it next (a restarted
// engine's reader, the user's code) stayed on that one CPU.
func TestBoundSpinnerLeavesNoBoundThread(t *testing.T) {
	all, cpu := spinnerCPU(t)
	rate, _ := bybitsim.ParseRate("1000")
	// The spinner lands on the main thread now and then; that thread is
	// wedged rather than ended (see boundThreads), so try a few engines
	// until one spins elsewhere.
	for try := 0; try < 8; try++ {
		h := startHarness(t, bybitsim.Config{Seed: 9, Rate: rate}, Config{
			Symbols:    []string{"BTCUSDT"},
			Topics:     []string{"orderbook.50"},
			Wait:       ring.Spin,
			CPUs:       []int{cpu},
			Processors: 1,
		})
		waitFor(t, 20*time.Second, "100 messages", func() bool { return h.e.Stats().Messages > 100 })
		onOther := boundThreads(t, all.Count()) > 0
		h.stop()
		if !onOther {
			continue
		}
		// The spinner's goroutine has returned; its thread must be gone
		// with it.
		waitFor(t, 10*time.Second, "no thread bound to one CPU", func() bool { return boundThreads(t, all.Count()) == 0 })
		return
	}
	t.Skip("the spinner ran on the main thread in every try")
}

// boundThreads counts the process's threads, other than the main one,
// allowed on fewer than n CPUs.
func boundThreads(t *testing.T, n int) int {
	t.Helper()
	bound := 0
	for tid, set := range threadMasks(t) {
		// The main thread never exits: a locked goroutine that ends on
		// it wedges it for good instead, so it runs nothing else and its
		// binding reaches no goroutine.
		if tid != os.Getpid() && set.Count() < n {
			bound++
		}
	}
	return bound
}

// With Isolate, a bound spinner has its CPU to itself while it runs: every
// other thread of the process is allowed only the other CPUs. When the
// engine stops they get every CPU back.
func TestIsolatedSpinnerOwnsItsCPU(t *testing.T) {
	all, cpu := spinnerCPU(t)
	rate, _ := bybitsim.ParseRate("1000")
	h := startHarness(t, bybitsim.Config{Seed: 9, Rate: rate}, Config{
		Symbols:    []string{"BTCUSDT"},
		Topics:     []string{"orderbook.50"},
		Wait:       ring.Spin,
		CPUs:       []int{cpu},
		Isolate:    true,
		Processors: 1,
	})
	waitFor(t, 20*time.Second, "100 messages", func() bool { return h.e.Stats().Messages > 100 })
	// Exactly one thread may run on the reserved CPU, and only there.
	var onCPU, onlyThere int
	for _, set := range threadMasks(t) {
		if set.IsSet(cpu) {
			onCPU++
			if set.Count() == 1 {
				onlyThere++
			}
		}
	}
	if onCPU != 1 || onlyThere != 1 {
		t.Errorf("while spinning: %d threads allowed on CPU %d (%d bound to it alone), want the spinner alone", onCPU, cpu, onlyThere)
	}
	h.stop()
	// The main thread may be the spinner's, wedged for good (see
	// boundThreads); every other thread has the process's CPUs back.
	waitFor(t, 10*time.Second, "every thread's CPUs back", func() bool {
		for tid, set := range threadMasks(t) {
			if tid != os.Getpid() && set != all {
				return false
			}
		}
		return true
	})
}

// threadMasks returns the CPU mask of every thread of the process.
func threadMasks(t *testing.T) map[int]unix.CPUSet {
	t.Helper()
	m, err := cpubind.Masks()
	if err != nil {
		t.Skip(err)
	}
	return m
}

// spinnerCPU returns the process's CPU mask and the CPU a test binds a
// spinner to (the last), skipping where two Ps and two allowed CPUs
// including that one are not there.
func spinnerCPU(t *testing.T) (all unix.CPUSet, cpu int) {
	t.Helper()
	if runtime.GOMAXPROCS(0) < 2 || runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Skip(err)
	}
	cpu = runtime.NumCPU() - 1
	if all.Count() < 2 || !all.IsSet(cpu) {
		t.Skip("the test process is not allowed two CPUs including the last")
	}
	return all, cpu
}
