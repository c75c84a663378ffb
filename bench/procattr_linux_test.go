package bench

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// childProcAttr makes the kernel kill the simulator child if the benchmark
// process dies without stopping it (its --duration is the backstop
// elsewhere).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// pinThread binds the calling OS thread to cpu, as the engine binds a
// spinning processor (Config.CPUs); the caller holds LockOSThread.
func pinThread(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set)
}
