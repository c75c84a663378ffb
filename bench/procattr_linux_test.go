package bench

import "syscall"

// childProcAttr makes the kernel kill the simulator child if the benchmark
// process dies without stopping it (its --duration is the backstop
// elsewhere).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
