package harness

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// ProcessDir makes a folder for what a test binary keeps across its tests
// (Caddy's data and the tests' stores, a Chromium's profile), in the
// system's temporary folder (TMPDIR as it was before OwnTemp, so that
// paths stay short: a unix socket's is at most 107 bytes):
// smsgate-run-<prefix>-<random>. The binary
// removes it when its tests end. Killed first (SIGKILL, a timeout's
// panic), it cannot: the next test binary that calls ProcessDir removes
// it instead. Each folder is reserved by a lock (an abstract socket, as
// Port's) that its process holds until it ends, however it ends; a folder
// whose lock is free belongs to no running process. (On other systems
// than Linux the lock is this process's alone, and nothing is removed.)
func ProcessDir(prefix string) (string, error) {
	sweep()
	for range 100 {
		name := fmt.Sprintf("smsgate-run-%s-%d", prefix, rand.Uint32())
		// The lock first: a sweep in another process never sees the
		// folder unlocked.
		release, ok := lockName(name)
		if !ok {
			continue
		}
		dir := filepath.Join(systemTemp(), name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			release()
			if os.IsExist(err) {
				continue
			}
			return "", err
		}
		forever.keep(release) // locked until the process ends
		return dir, nil
	}
	return "", fmt.Errorf("harness: no free name for a folder smsgate-run-%s-*", prefix)
}

// sweep removes the ProcessDirs of test binaries that have ended: in the
// system's temporary folder, and in this binary's own (where the test
// binaries it runs as children make theirs).
func sweep() {
	if runtime.GOOS != "linux" {
		return
	}
	dirs, _ := filepath.Glob(filepath.Join(systemTemp(), "smsgate-run-*"))
	if own := os.TempDir(); own != systemTemp() {
		children, _ := filepath.Glob(filepath.Join(own, "smsgate-run-*"))
		dirs = append(dirs, children...)
	}
	for _, dir := range dirs {
		if release, ok := lockName(filepath.Base(dir)); ok {
			_ = os.RemoveAll(dir)
			release()
		}
	}
}

// ownTemp is the system's temporary folder as it was before OwnTemp
// pointed TMPDIR at this binary's own.
var ownTemp struct {
	sync.Mutex
	system string
}

// systemTemp is the system's temporary folder, before OwnTemp.
func systemTemp() string {
	ownTemp.Lock()
	defer ownTemp.Unlock()
	if ownTemp.system != "" {
		return ownTemp.system
	}
	return os.TempDir()
}
