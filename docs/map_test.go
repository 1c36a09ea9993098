package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// A room's entry in docs/ARCHITECTURE.md's map that lists its files (a line
// "  name.go  what it does") lists every one of them, so a newcomer reading
// the map finds each file where its package is described (newcomer32 found
// 22 files of such rooms named nowhere). Rooms described as a whole, with
// no file lines, are left to their package comment.
func TestTheMapNamesEveryFileOfARoomItLists(t *testing.T) {
	root := harness.Root(t)
	raw, err := os.ReadFile(filepath.Join(root, "docs/ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(raw), "```", 3)
	if len(parts) < 3 {
		t.Fatal("docs/ARCHITECTURE.md has no map (its first fenced block)")
	}
	room := regexp.MustCompile(`^([a-z][\w./]*)/\s`)
	fileLine := regexp.MustCompile(`^  [\w., ]+\.go\b`)
	entries, listed := map[string]string{}, map[string]bool{}
	current := ""
	for _, line := range strings.Split(parts[1], "\n") {
		if m := room.FindStringSubmatch(line); m != nil {
			current = m[1]
		}
		if current == "" {
			continue
		}
		entries[current] += line + "\n"
		if fileLine.MatchString(line) {
			listed[current] = true
		}
	}
	if len(listed) < 5 {
		t.Fatalf("the map lists the files of only %d rooms: has its layout changed? change this test with it", len(listed))
	}
	for dir := range listed {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Errorf("the map lists files of %s/, which has none", dir)
			continue
		}
		for _, f := range files {
			name := filepath.Base(f)
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			named := regexp.MustCompile(`(^|[^\w])` + regexp.QuoteMeta(name) + `\b`)
			if !named.MatchString(entries[dir]) {
				t.Errorf("docs/ARCHITECTURE.md's map lists %s/'s files but not %s: say what it holds there", dir, name)
			}
		}
	}
}
