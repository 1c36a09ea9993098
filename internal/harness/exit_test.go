package harness

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEveryTestBinaryExitsThroughMain: every package with tests has a
// TestMain that ends in Main or Exit (or sitetest.Main, which stops its
// Caddy first, and is run again without the wait: WithoutExitWait): one
// without would add that second back to the suite's time. And it runs its tests in a
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

// TestWithoutExitWaitRunsTheBinaryAgainWithoutTheWait: under -race,
// WithoutExitWait runs the binary again in the same process with GORACE's
// atexit_sleep_ms=0, its other options kept, and not a third time; built
// without -race, or with the wait set in GORACE, it runs nothing again.
// Before, sitetest.Main's binaries (caddymodule, pages, browser) each
// waited a second at exit: 1.3 s of an empty caddymodule run's wall, 0.2 s
// of its CPU.
func TestWithoutExitWaitRunsTheBinaryAgainWithoutTheWait(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := func(gorace string) []string {
		cmd := exec.Command(self)
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GORACE=") }), "HARNESS_TEST_EXEC=1", "GORACE="+gorace)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	pid := regexp.MustCompile(`^pid (\d+) `)
	got := run("halt_on_error=1")
	want := []string{`GORACE "halt_on_error=1"`}
	if raceEnabled {
		want = append(want, `GORACE "halt_on_error=1 atexit_sleep_ms=0"`)
	}
	if len(got) != len(want) {
		t.Fatalf("ran %d times, want %d: %q", len(got), len(want), got)
	}
	for i, line := range got {
		if !strings.HasSuffix(line, want[i]) || pid.FindString(line) != pid.FindString(got[0]) {
			t.Errorf("run %d: %q; want the same process with %s", i+1, line, want[i])
		}
	}
	if got := run("atexit_sleep_ms=5"); len(got) != 1 {
		t.Errorf("with the wait set, ran %d times: %q", len(got), got)
	}
}
