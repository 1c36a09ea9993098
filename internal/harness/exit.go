package harness

import (
	"os"
	"syscall"
	"testing"
)

// Main runs a test binary's tests (Run) and exits with their result: call
// it from TestMain, with nothing to do after the tests.
//
// Under -race it exits without the race runtime's wait at exit (GORACE's
// atexit_sleep_ms, a second), which lets threads still in the middle of
// reporting a race finish: once m.Run returns, testing has failed every
// test that raced and the run itself for a race outside the tests, so the
// wait only added a second to each of the suite's test binaries (28 of
// them, at two at once: about 14 s of `go test -race ./...`). A TestMain
// that does more after m.Run (stops a Caddy, say) exits with os.Exit
// instead, so that a race in that work still fails the binary.
func Main(m *testing.M) { Exit(Run(m)) }

// Run is m.Run in a temporary folder of this test binary's own (OwnTemp),
// removed when the tests end: for a TestMain that tidies up more after
// them, then calls Exit.
func Run(m *testing.M) int {
	remove := OwnTemp()
	defer remove()
	return m.Run()
}

// OwnTemp points TMPDIR, where t.TempDir, os.MkdirTemp and every child
// process (Caddy, redis-server, nginx, Chromium, a benchmark script) put
// their temporary files, at a ProcessDir of this test binary's, and
// returns what removes it once the tests have ended. Testing removes a
// t.TempDir only when the binary ends well: a binary killed (a timeout's
// panic, SIGKILL, Ctrl-C) left each of its tests' folders in the system's
// temporary folder. Now all of them are in its ProcessDir, which the next
// test binary sweeps, and two binaries at once never sweep each other's
// (TestAKilledBinarysTempDirsAreSwept).
func OwnTemp() (remove func()) {
	dir, err := ProcessDir("tmp")
	if err != nil {
		panic(err)
	}
	ownTemp.Lock()
	ownTemp.system = os.TempDir()
	ownTemp.Unlock()
	// GOTMPDIR too: t.TempDir's folder when it is set, and `go run`'s.
	for _, k := range []string{"TMPDIR", "GOTMPDIR"} {
		if err := os.Setenv(k, dir); err != nil {
			panic(err)
		}
	}
	return func() { _ = os.RemoveAll(dir) }
}

// Exit is Main's exit, for a TestMain that only tidies up after m.Run
// (removes a folder).
func Exit(code int) {
	if raceEnabled {
		syscall.Exit(code) // past the race runtime's exit, and its wait
	}
	os.Exit(code)
}
