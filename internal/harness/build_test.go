package harness

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// buildTestLock is the lock TestOneBuildAtATime takes: a name of this
// process's own. The lock is machine-wide (an abstract socket), and one
// name for every copy ("go-run-test") failed the test in whichever of two
// suites running at once (two checkouts, two helpers) came second: "the
// lock is held already" (TestOneBuildAtATimeBesideAnotherCopy).
func buildTestLock() string { return fmt.Sprintf("go-run-test-%d", os.Getpid()) }

// TestOneBuildAtATime: BuildCaddy's lock waits while another holds it
// (on Linux another process, as the ports' locks), and is had as soon as
// it is let go.
func TestOneBuildAtATime(t *testing.T) {
	release, ok := lockName(buildTestLock())
	if !ok {
		t.Fatal("the lock is held already")
	}
	got := make(chan func())
	go func() { got <- waitLock(buildTestLock()) }()
	select {
	case r := <-got:
		r()
		t.Fatal("a second build started while the first held the lock")
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case r := <-got:
		r()
	case <-time.After(time.Minute): // a hang, not a measure
		t.Fatal("the second build still waits once the first let go")
	}
}

// TestOneBuildAtATimeBesideAnotherCopy: TestOneBuildAtATime passes in a
// second copy of this binary while this one holds its lock, as two suites
// run at once on one machine do. Before, both took "go-run-test", and the
// second failed: "the lock is held already".
func TestOneBuildAtATimeBesideAnotherCopy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the lock is machine-wide on Linux only (abstract sockets)")
	}
	release, ok := lockName(buildTestLock())
	if !ok {
		t.Fatal("the lock is held already")
	}
	defer release()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOneBuildAtATime$", "-test.count=1")
	cmd.Env = ChildEnv()
	if out, err := CombinedOutput(cmd); err != nil {
		t.Fatalf("TestOneBuildAtATime in another copy, while this one holds its lock: %v\n%s", err, out)
	}
}
