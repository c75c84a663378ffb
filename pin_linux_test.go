package ringfeed

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/ring"
)

// A spinning processor bound to a CPU (--cpus) must take the binding with
// it when the engine stops: its thread used to be unlocked and handed back
// to the runtime, so whatever goroutine ran on it next (a restarted
// engine's reader, the user's code) stayed on that one CPU.
func TestBoundSpinnerLeavesNoBoundThread(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 || runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Skip(err)
	}
	if all.Count() < 2 {
		t.Skip("the test process is bound to one CPU")
	}
	cpu := runtime.NumCPU() - 1
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
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Skip(err)
	}
	bound := 0
	for _, d := range tasks {
		tid, err := strconv.Atoi(d.Name())
		if err != nil || tid == os.Getpid() {
			// The main thread never exits: a locked goroutine that ends
			// on it wedges it for good instead, so it runs nothing else
			// and its binding reaches no goroutine.
			continue
		}
		var set unix.CPUSet
		if unix.SchedGetaffinity(tid, &set) == nil && set.Count() < n {
			bound++
		}
	}
	return bound
}
