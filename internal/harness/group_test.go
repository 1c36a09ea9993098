package harness

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// groupAndHang is this binary run by TestAScriptsProcessesDieWithTheTestBinary:
// it starts a script with StartGroup that starts a process of its own in
// the background (sleep) and prints its pid, and waits to be killed.
func groupAndHang() {
	cmd := exec.Command("sh", "-c", "sleep 600 >/dev/null & echo $!; wait")
	cmd.Stdout = os.Stdout
	if err := StartGroup(cmd); err != nil {
		panic(err)
	}
	time.Sleep(10 * time.Minute)
}

// waitGone waits for process pid to end, up to a minute (a hang, not a
// measure).
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !gone(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) still runs a minute later", what, pid)
		}
	}
}

// pidOf reads the pid that line is.
func pidOf(t *testing.T, line string) int {
	t.Helper()
	pid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("a pid: %q %v", line, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if gone(pid) {
		t.Fatalf("process %d ended before the test looked", pid)
	}
	return pid
}

// TestAScriptsProcessesDieWithTheTestBinary: a test binary killed (SIGKILL:
// no cleanup runs, no trap of the script) takes along what the script it
// started with StartGroup started in turn. Before, a benchmark script's
// Caddy, Redis and wrk (bench/smoke_test.go) outlived a killed binary:
// Start's Pdeathsig reaches the script alone.
func TestAScriptsProcessesDieWithTheTestBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux's")
	}
	parent, line := hanging(t, "HARNESS_TEST_GROUP=1")
	t.Cleanup(func() { _ = parent.Process.Kill(); _ = parent.Wait() })
	pid := pidOf(t, line)
	_ = parent.Process.Kill()
	_ = parent.Wait()
	waitGone(t, pid, "the script's background process, its test binary killed,")
}

// TestAScriptsLeftoversDieWithIt: what a script started with StartGroup
// leaves running in the background when it ends is killed as it ends, so
// that no process outlives the test that started the script.
func TestAScriptsLeftoversDieWithIt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the guard is Linux's")
	}
	cmd := exec.Command("sh", "-c", "sleep 600 >/dev/null & echo $!; read _; exit 3")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := StartGroup(cmd); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	pid := pidOf(t, strings.TrimSpace(line))
	in.Close() // the script ends
	err = cmd.Wait()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 3 {
		t.Errorf("the script's exit: %v, want its status 3", err)
	}
	waitGone(t, pid, "the script's background process, the script ended,")
}

// TestAGroupsExtraFilesAndCancel: a StartGroup command gets cmd's
// ExtraFiles at their numbers, and its context's end kills it.
func TestAGroupsExtraFilesAndCancel(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the guard is Linux's")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", "echo fd3 >&3; exec 3>&-; sleep 600 >/dev/null & echo $!; wait")
	cmd.ExtraFiles = []*os.File{w}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := StartGroup(cmd); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got, _ := bufio.NewReader(r).ReadString('\n'); got != "fd3\n" {
		t.Errorf("fd 3 carried %q", got)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	pid := pidOf(t, strings.TrimSpace(line))
	cancel()
	if err := cmd.Wait(); err == nil {
		t.Error("a cancelled script ended well")
	}
	waitGone(t, pid, "the background process of a cancelled script")
}
