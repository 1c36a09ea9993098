package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ChromiumEnv is the environment, beyond this process's, of a Chromium a
// test starts with its profile (--user-data-dir) under dir: its home,
// temporary, cache and config directories under dir too. A profile is not
// all a Chromium writes: Debian's chromium makes a directory for its
// single-instance socket in $TMPDIR (org.chromium.Chromium.XXXXXX, which
// only a graceful exit removes: the tests kill it, and /tmp gained one per
// run), and writes $HOME/.cache/dconf/user. With this environment all of
// it goes where the test removes it.
func ChromiumEnv(dir string) []string {
	return []string{
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
	}
}

// ChromiumKeptInside checks, while a Chromium started with ChromiumEnv(dir)
// runs with its profile at profile, that its single-instance socket is
// under dir: the profile's SingletonSocket link names where Chromium put
// it. A Chromium that makes none (the headless shell) passes.
func ChromiumKeptInside(profile, dir string) error {
	target, err := os.Readlink(filepath.Join(profile, "SingletonSocket"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("chromium's single-instance socket is %s, outside the test's %s", target, dir)
	}
	return nil
}

// ChromiumDir is a folder for a Chromium that a test starts, its profile
// and what ChromiumEnv puts beside it, removed when the test ends. Its path
// is short, unlike t.TempDir's (<TMPDIR>/<test's name><n>/001): Chromium's
// single-instance socket, org.chromium.Chromium.XXXXXX/SingletonSocket in
// it, must fit the 107 bytes of a unix socket's path, and Chromium did not
// start ("Socket path too long") once TMPDIR was a test binary's own.
func ChromiumDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "chromium")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
