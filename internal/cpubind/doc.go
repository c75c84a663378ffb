// Package cpubind binds OS threads to CPUs for the engine's spinning
// processors and keeps the rest of the process off the CPUs they hold.
//
// A spinning processor is only as fast as the core it spins on is its
// own. Binding its thread to a CPU keeps it from migrating, but any other
// thread of the process (the readers' threads, the runtime's, an HTTP
// handler's) may still be scheduled onto that CPU, where it time-shares
// with the spinner and evicts its caches. Reserve does what `taskset` on
// every other thread would: it binds the calling thread to the CPU and
// moves every other thread of the process onto the CPUs left over; threads
// created later inherit that mask from their creator. Release gives the
// CPU back and restores the others' mask, the released thread's included.
//
// # Contract
//
// The caller holds runtime.LockOSThread for as long as the binding must
// last. A thread bound by Pin keeps its mask until it ends, so its caller
// does not unlock it (it ends with its goroutine); one bound by Reserve
// gets the others' mask back at release.
// Reserve and Release are safe from any goroutine; they read
// /proc/self/task and make one sched_setaffinity call per thread, so they
// belong at start-up and shutdown, not on a hot path. Moving the other
// threads is best effort: a thread that ends or starts during the walk is
// skipped or inherits a mask, and when no CPU would be left over the
// others are not moved. On systems other than Linux, Pin and Reserve
// return ErrUnsupported.
package cpubind
