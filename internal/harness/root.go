package harness

import (
	"os"
	"path/filepath"
	"testing"
)

// Root is the module's root folder (where go.mod is), above the test's
// own, for tests that read the project's files (README.md, docs/).
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
