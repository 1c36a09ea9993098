package harness

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryTestBinaryExitsThroughMain: every package with tests has a
// TestMain that ends in Main or Exit (or sitetest.Main, which stops its
// Caddy first and keeps the race runtime's wait): one without would add
// that second back to the suite's time. And it runs its tests in a
// temporary folder of its own (Main, Run or sitetest.Main: OwnTemp): one
// without would leave its tests' folders in /tmp when it is killed.
func TestEveryTestBinaryExitsThroughMain(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal("not the module's root: ", root)
	}
	exits := regexp.MustCompile(`\b(harness\.Main\(m\)|harness\.Exit\(|sitetest\.Main\(m\b|\tMain\(m\))`)
	ownsTemp := regexp.MustCompile(`\b(harness\.Main\(m\)|harness\.Run\(m\)|harness\.OwnTemp\(\)|sitetest\.Main\(m\b|\tMain\(m\))`)
	tests := map[string]string{} // a package's folder → its test files' text
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			tests[filepath.Dir(path)] += string(raw)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) < 20 {
		t.Fatalf("only %d packages with tests found under %s", len(tests), root)
	}
	for dir, text := range tests {
		if !strings.Contains(text, "func TestMain(m *testing.M)") || !exits.MatchString(text) {
			rel, _ := filepath.Rel(root, dir)
			t.Errorf("%s: its TestMain must end in harness.Main(m) (or harness.Exit, or sitetest.Main)", rel)
		}
		if !ownsTemp.MatchString(text) {
			rel, _ := filepath.Rel(root, dir)
			t.Errorf("%s: its TestMain must run its tests in a folder of its own: harness.Main(m), harness.Run(m) or sitetest.Main", rel)
		}
	}
}
