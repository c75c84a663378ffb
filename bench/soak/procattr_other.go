//go:build !linux

package main

import "syscall"

// childProcAttr: no parent-death signal outside Linux; the child's
// --duration bounds its life instead.
func childProcAttr() *syscall.SysProcAttr { return nil }
