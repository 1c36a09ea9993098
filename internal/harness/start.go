package harness

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Start starts cmd, a server or a Caddy that a test runs, so that it dies
// with the test binary, however the binary ends: killed by a timeout, by
// SIGKILL, by a panic. On Linux the kernel sends the child sig when its
// parent dies (Pdeathsig): SIGKILL, or SIGTERM for a server that must stop
// children of its own (nginx's master stops its workers; SIGKILLed, it
// left them listening). Elsewhere it is cmd.Start.
//
// The kernel sends Pdeathsig when the thread that started the child ends,
// not the process (https://go.dev/issue/27505), and a Go thread can end
// (a goroutine locked to it returning without unlocking). So every child
// is started from one goroutine locked to its thread for the life of the
// test binary: that thread ends only with the process
// (TestAChildDiesWithTheTestBinary).
func Start(cmd *exec.Cmd, sig syscall.Signal) error {
	dieWith(cmd, sig)
	starter.Do(func() { go startAll() })
	done := make(chan error, 1)
	starts <- start{cmd, done}
	return <-done
}

type start struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	starter sync.Once
	starts  = make(chan start)
)

// startAll starts every child, on a thread that lives as long as the
// process.
func startAll() {
	runtime.LockOSThread() // never unlocked: the thread never ends
	for s := range starts {
		s.done <- s.cmd.Start()
	}
}
