package docs

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// What docs/ARCHITECTURE.md's opening says each room keeps to: only the
// glue (caddymodule, pages, admin) takes an *http.Request or writes an
// answer (providers call their gateways, and take neither); only the pages
// (and the console's charts) render HTML templates; only store knows a
// database.
func TestRoomsKeepToTheirJobs(t *testing.T) {
	root := harness.Root(t)
	raw, err := os.ReadFile(filepath.Join(root, "docs/ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, claim := range []string{
		"Only `caddymodule`, `pages`\nand `admin` know about HTTP (no `*http.Request` below them)",
		"only `store` knows about\ndatabases",
		"the only package that knows a template",
	} {
		if !strings.Contains(string(raw), claim) {
			t.Errorf("docs/ARCHITECTURE.md no longer says %q: change this test with it", claim)
		}
	}
	glue := []string{"caddymodule", "pages", "admin"}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			// Tools and test rigs, not rooms of the gate.
			if strings.HasPrefix(d.Name(), ".") || slices.Contains([]string{"bench", "cmd", "browser", "testdata", "internal/harness", "internal/fakes", "internal/sitetest", "store/storetest"}, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		room := strings.Split(filepath.ToSlash(rel), "/")[0]
		checked++
		if !slices.Contains(glue, room) {
			// The one *http.Request a provider may name is the redirect its
			// client refuses to follow: its own call, not a request it takes.
			calls := strings.ReplaceAll(string(src), "func noRedirect(*http.Request, []*http.Request) error", "")
			for _, http := range []string{"*http.Request", "http.ResponseWriter"} {
				if strings.Contains(calls, http) {
					t.Errorf("%s, below the glue, knows %s", rel, http)
				}
			}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == "html/template" && room != "pages" && room != "chart":
				t.Errorf("%s renders an HTML template: only the pages do (and chart, their SVG)", rel)
			case (strings.HasPrefix(p, "github.com/dgraph-io/badger") || strings.HasPrefix(p, "github.com/redis/go-redis")) && room != "store":
				t.Errorf("%s imports %s: only store knows a database", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d files read: the walk missed the rooms", checked)
	}
}
