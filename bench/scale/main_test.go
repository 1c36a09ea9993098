package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// TestAScaleRunWorksInAFolderOfItsOwn: with no -dir, each run works in a
// new temporary folder, which it removes at the end; a folder named with
// -dir is the run's and is kept (its store filled once, for the next run).
// Before, the default was one fixed folder (/tmp/smsgate-scale), which
// two runs at once shared (bench's TestScriptsStart checks a whole run
// leaves nothing in TMPDIR).
func TestAScaleRunWorksInAFolderOfItsOwn(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	a, doneA, err := workDir("")
	if err != nil {
		t.Fatal(err)
	}
	b, doneB, err := workDir("")
	if err != nil {
		t.Fatal(err)
	}
	if a == b || filepath.Dir(a) != tmp || filepath.Dir(b) != tmp {
		t.Fatalf("two runs' folders: %s and %s; want two of their own in %s", a, b, tmp)
	}
	doneA()
	doneB()
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	named := filepath.Join(tmp, "mine")
	got, done, err := workDir(named)
	if err != nil || got != named {
		t.Fatalf("a named folder: %s %v", got, err)
	}
	done()
	if _, err := os.Stat(named); err != nil {
		t.Errorf("a named folder was not kept: %v", err)
	}
}
