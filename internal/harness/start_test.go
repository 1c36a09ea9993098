package harness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startAndHang is this binary run by TestAChildDiesWithTheTestBinary: it
// starts a child (sleep) with Start, prints the child's pid, and waits to
// be killed.
func startAndHang() {
	cmd := exec.Command("sleep", "600")
	if err := Start(cmd, syscall.SIGKILL); err != nil {
		panic(err)
	}
	fmt.Println(cmd.Process.Pid)
	time.Sleep(10 * time.Minute)
}

// hanging runs this binary again with env (and args, else no test), and
// returns it once it wrote its first line (which it returns, trimmed); it
// then waits to be killed.
func hanging(t *testing.T, env string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	if len(args) == 0 {
		args = []string{"-test.run=^$"}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = ChildEnv(env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := Start(cmd, syscall.SIGKILL); err != nil { // it waits to be killed
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	return cmd, strings.TrimSpace(line)
}

// gone reports whether process pid has ended (a zombie nobody reaped has).
func gone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) state ...: the state follows the last ')'.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(f) == 0 || f[0] == "Z" || f[0] == "X"
}

// TestAChildDiesWithTheTestBinary: a test binary killed (SIGKILL: no
// cleanup runs) takes the child it started with Start along. Before, a
// killed binary left its redis-servers, nginx and Caddy processes running.
func TestAChildDiesWithTheTestBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux's")
	}
	parent, line := hanging(t, "HARNESS_TEST_START=1")
	pid, err := strconv.Atoi(line)
	if err != nil {
		_ = parent.Process.Kill()
		t.Fatalf("the child's pid: %q %v", line, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if gone(pid) {
		t.Fatal("the child ended before its parent")
	}
	_ = parent.Process.Kill()
	_ = parent.Wait()
	for deadline := time.Now().Add(time.Minute); !gone(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the child (pid %d) outlived its killed parent by a minute", pid)
		}
	}
}
