package harness

import (
	"os"
	"slices"
	"strings"
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
//
// Caddy's data directory is the binary's own (OwnData), for it and every
// process it starts.
func Main(m *testing.M) {
	removeData := OwnData()
	code := Run(m)
	removeData()
	Exit(code)
}

// OwnData points XDG_DATA_HOME, Caddy's data directory (caddy.AppDataDir:
// a gate's default Badger store, its memory of the stores it saw,
// Caddy's instance ID and certificates), at a ProcessDir of this test
// binary's, for it and every process it starts, and returns what removes
// it. A test that opened a gate or a store with no folder of its own wrote
// into the user's ~/.local/share/caddy (a stray default store, smsgate/,
// and a memory of each test's store: a later test's new store at an
// address an earlier one had would look wiped there); sitetest.Main and
// internal/processes give theirs a folder of their own the same way
// (TestTheTestsDataDirectoryIsTheirOwn).
func OwnData() (remove func()) {
	dir, err := ProcessDir("data")
	if err != nil {
		panic(err)
	}
	if err := os.Setenv("XDG_DATA_HOME", dir); err != nil {
		panic(err)
	}
	return func() { _ = os.RemoveAll(dir) }
}

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

// WithoutExitWait runs this test binary again in its own place (an exec:
// the same process, arguments and output) with GORACE's atexit_sleep_ms=0,
// when it is built with -race and GORACE does not set that wait: for a
// TestMain that works after m.Run and exits with os.Exit (sitetest.Main:
// it stops its Caddy), so that the race runtime still fails the binary for
// a race in that work (exit status 66) without its second's wait at exit,
// which a test binary's own environment cannot otherwise turn off. Call it
// first in TestMain. On a failed exec the binary runs on, with the wait.
func WithoutExitWait() {
	if env, again := exitWaitEnv(); raceEnabled && again {
		if self, err := os.Executable(); err == nil {
			_ = syscall.Exec(self, os.Args, env)
		}
	}
}

// exitWaitEnv is this process's environment with GORACE's
// atexit_sleep_ms=0 (RaceEnv; one GORACE: an exec's program reads the
// first of a key), and whether that changed it: not when GORACE already
// sets the wait, as whoever set it chose.
func exitWaitEnv() ([]string, bool) {
	if strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
		return nil, false
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GORACE=") })
	return append(env, RaceEnv()), true
}
