//go:build !linux

package harness

import (
	"os/exec"
	"syscall"
)

// dieWith does nothing: Pdeathsig is Linux's.
func dieWith(*exec.Cmd, syscall.Signal) {}
