package main

import "syscall"

// childProcAttr makes the kernel kill ringfeed if the driver dies without
// stopping it (the child's --duration is the backstop elsewhere).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
