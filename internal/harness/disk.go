package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// SmallDisk mounts a tmpfs of size bytes, for tests of a disk that fills
// up while the gate runs, and returns a file in it that Fill fills. It
// skips the test where mounting is not allowed (not root, no
// CAP_SYS_ADMIN, not Linux). The mount is detached when the test ends,
// and goes away once nothing holds it open.
func SmallDisk(t testing.TB, size uint64) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("a size-limited tmpfs needs Linux")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a size-limited tmpfs here (needs root and CAP_SYS_ADMIN): %v %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "--lazy", dir).Run() })
	return dir
}

// Fill writes into disk/filler until the disk is full; the returned func
// frees the space again.
func Fill(t testing.TB, disk string) (free func()) {
	t.Helper()
	path := filepath.Join(disk, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			break // ENOSPC: full
		}
	}
	f.Close()
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// Immutable sets the immutable flag on dir and everything in it (chattr
// +i), as an admin or a failing disk might while the gate runs; the
// returned func lifts it, and the test's end lifts it too. It skips the
// test where the flag cannot be set (not root, or a file system without it).
func Immutable(t testing.TB, dir string) (lift func()) {
	t.Helper()
	if out, err := exec.Command("chattr", "-R", "+i", dir).CombinedOutput(); err != nil {
		_ = exec.Command("chattr", "-R", "-i", dir).Run()
		t.Skipf("cannot make a folder immutable here (needs root and a file system with the flag): %v %s", err, strings.TrimSpace(string(out)))
	}
	lift = func() { _ = exec.Command("chattr", "-R", "-i", dir).Run() }
	t.Cleanup(lift)
	return lift
}
