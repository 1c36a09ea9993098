package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
