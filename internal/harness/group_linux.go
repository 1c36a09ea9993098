package harness

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// guardEnv, in the environment of this binary run again as StartGroup's
// guard, is how many files beyond stdin, stdout and stderr the guard
// hands on to the command it runs.
const guardEnv = "SMSGATE_HARNESS_GUARD"

// The guard runs before anything else of the binary (TestMain, the
// packages' init that come after this one's): it is no test run.
func init() {
	if files, ok := os.LookupEnv(guardEnv); ok {
		Exit(guard(files))
	}
}

// StartGroup starts cmd as Start does, and with it every process cmd
// starts in turn (a script's Caddy, Redis, nginx and wrk, the program of a
// `go run`), none of which Start's Pdeathsig reaches: it is cmd's alone,
// and a shell's trap does not run on SIGKILL. cmd runs in a process group
// of its own under a guard (this binary run again, started with Start and
// SIGTERM) that kills the whole group (SIGKILL) when cmd ends (what it
// left running in the background too), when the guard is sent SIGTERM,
// SIGINT or SIGHUP, and so when this binary dies, however it dies
// (TestAScriptsProcessesDieWithTheTestBinary). cmd's Cancel (its context's
// end) sends the guard SIGTERM. cmd's Wait returns cmd's exit status
// (128 plus the signal's number for a command killed by one). Only a
// guard killed itself by SIGKILL leaves the group running; and a process
// that leaves the group (setsid, a daemon) is not the guard's.
func StartGroup(cmd *exec.Cmd) error {
	if cmd.Err != nil {
		return cmd.Err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd.Args = append([]string{self, cmd.Path}, cmd.Args...)
	cmd.Path = self
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], RaceEnv(), guardEnv+"="+strconv.Itoa(len(cmd.ExtraFiles)))
	if cmd.Cancel != nil { // made by CommandContext
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	}
	return Start(cmd, syscall.SIGTERM)
}

// guard runs os.Args[1] (with os.Args[2:] as its argv) in a process group
// of its own, kills the group when it ends or a signal comes, and returns
// its exit status.
func guard(files string) int {
	n, err := strconv.Atoi(files)
	if err == nil {
		err = os.Unsetenv(guardEnv)
	}
	if err != nil || len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "harness: a guard needs a command and its files' count")
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	child := &exec.Cmd{Path: os.Args[1], Args: os.Args[2:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	for i := range n {
		child.ExtraFiles = append(child.ExtraFiles, os.NewFile(uintptr(3+i), "extra"))
	}
	if err := Start(child, syscall.SIGKILL); err != nil { // the leader at least, if the guard is killed
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 127
	}
	pid := child.Process.Pid
	ended := make(chan struct{})
	go func() {
		// Ended, but not reaped: while the leader is a zombie its number
		// (the group's) is given to no other process.
		var info unix.Siginfo
		for unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
		}
		close(ended)
	}()
	select {
	case <-ended:
	case <-sigs:
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if err := child.Wait(); child.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 127
	}
	ws, _ := child.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
