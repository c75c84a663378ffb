//go:build !linux

package bench

import "syscall"

// childProcAttr: the child's --duration bounds its life.
func childProcAttr() *syscall.SysProcAttr { return nil }
