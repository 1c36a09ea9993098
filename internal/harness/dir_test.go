package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// dirAndHang is this binary run by TestAKilledBinarysFolderIsSwept: it
// makes a ProcessDir with a file in it, prints its path, and waits to be
// killed.
func dirAndHang() {
	dir, err := ProcessDir("probe")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o600); err != nil {
		panic(err)
	}
	fmt.Println(dir)
	time.Sleep(10 * time.Minute)
}

// TestAKilledBinarysFolderIsSwept: the ProcessDir of a test binary killed
// before it could remove it is removed by the next ProcessDir; that of a
// binary still running (this one's) is not. Before, every killed binary
// left its Caddy data, stores and Chromium profile in the temporary folder.
func TestAKilledBinarysFolderIsSwept(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the lock across processes is Linux's abstract sockets")
	}
	mine, err := ProcessDir("probe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(mine) })
	killed, theirs := hanging(t, "HARNESS_TEST_DIR=1")
	if _, err := os.Stat(filepath.Join(theirs, "data")); err != nil {
		_ = killed.Process.Kill()
		t.Fatalf("the child's folder %q: %v", theirs, err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(theirs) })

	// While the child lives, its folder stays.
	again, err := ProcessDir("probe")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(again)
	if _, err := os.Stat(theirs); err != nil {
		t.Fatalf("a running binary's folder was swept: %v", err)
	}
	_ = killed.Process.Kill()
	_ = killed.Wait()
	again, err = ProcessDir("probe")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(again)
	if _, err := os.Stat(theirs); !os.IsNotExist(err) {
		t.Fatalf("the killed binary's folder is still there: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("this binary's own folder was swept: %v", err)
	}
}

// TestTempDirHeld is the child's half of TestAKilledBinarysTempDirsAreSwept
// (HARNESS_TEST_TEMPDIR=1): a test of a binary run through Main that makes
// a t.TempDir with a file in it, prints its path, and waits to be killed.
// Otherwise it does nothing.
func TestTempDirHeld(t *testing.T) {
	if os.Getenv("HARNESS_TEST_TEMPDIR") != "1" {
		return
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	fmt.Println(dir)
	time.Sleep(10 * time.Minute)
}

// TestAKilledBinarysTempDirsAreSwept: two test binaries at once, each in a
// test's t.TempDir; one is killed (SIGKILL: testing removes nothing). The
// next test binary to start (its sweep) removes the killed one's folders,
// and never the other's, still running. Before, every killed test binary
// left its tests' folders in /tmp: testing removes them only when the
// binary ends well.
func TestAKilledBinarysTempDirsAreSwept(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the lock across processes is Linux's abstract sockets")
	}
	held := func() (*exec.Cmd, string) {
		cmd, dir := hanging(t, "HARNESS_TEST_TEMPDIR=1", "-test.run=^TestTempDirHeld$")
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
			t.Fatalf("the child's t.TempDir %q: %v", dir, err)
		}
		// A test's folder is <TMPDIR>/<test><n>/<nnn>, and TMPDIR the
		// child binary's own folder (OwnTemp). Only folders of those names
		// are removed here, whatever the child did.
		test := filepath.Dir(dir)
		if strings.HasPrefix(filepath.Base(test), "TestTempDirHeld") {
			t.Cleanup(func() { _ = os.RemoveAll(test) })
		}
		owner := filepath.Dir(test)
		if !strings.HasPrefix(filepath.Base(owner), "smsgate-run-tmp-") {
			t.Fatalf("the child's t.TempDir %s is not in a folder of its binary's own (smsgate-run-tmp-*)", dir)
		}
		t.Cleanup(func() { _ = os.RemoveAll(owner) })
		return cmd, dir
	}
	killed, theirs := held()
	_, others := held()

	_ = killed.Process.Kill()
	_ = killed.Wait()
	again, err := ProcessDir("probe") // what every test binary does as it starts
	if err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(again)
	if _, err := os.Stat(theirs); !os.IsNotExist(err) {
		t.Fatalf("the killed binary's t.TempDir %s is still there: %v", theirs, err)
	}
	if _, err := os.Stat(filepath.Join(others, "data")); err != nil {
		t.Fatalf("a running binary's t.TempDir was swept: %v", err)
	}
}
