//go:build !linux

package harness

import (
	"os/exec"
	"syscall"
)

// StartGroup is Start: a process group killed with the test binary is
// Linux's (Pdeathsig).
func StartGroup(cmd *exec.Cmd) error { return Start(cmd, syscall.SIGKILL) }
