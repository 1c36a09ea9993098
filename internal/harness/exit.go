package harness

import (
	"os"
	"syscall"
	"testing"
)

// Main runs a test binary's tests and exits with their result: call it
// from TestMain, with nothing to do after the tests.
//
// Under -race it exits without the race runtime's wait at exit (GORACE's
// atexit_sleep_ms, a second), which lets threads still in the middle of
// reporting a race finish: once m.Run returns, testing has failed every
// test that raced and the run itself for a race outside the tests, so the
// wait only added a second to each of the suite's test binaries (28 of
// them, at two at once: about 14 s of `go test -race ./...`). A TestMain
// that does more after m.Run (stops a Caddy, say) exits with os.Exit
// instead, so that a race in that work still fails the binary.
func Main(m *testing.M) { Exit(m.Run()) }

// Exit is Main's exit, for a TestMain that only tidies up after m.Run
// (removes a folder).
func Exit(code int) {
	if raceEnabled {
		syscall.Exit(code) // past the race runtime's exit, and its wait
	}
	os.Exit(code)
}
