// Package docs holds the project's documents, and tests that keep what
// they cite true.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// The documents whose citations are checked.
var documents = []string{"README.md", "SECURITY.md", "docs/ARCHITECTURE.md", "docs/BENCHMARKS.md", "docs/TESTING.md", "docs/UPGRADING.md"}

// Names the documents cite that belong to others (Twilio's, Traefik's,
// Badger's, HTTP's…), not to this repository.
var others = map[string]string{
	"Body": "a webhook's JSON key", "From": "a webhook's JSON key", "To": "a webhook's JSON key",
	"Cookie": "an HTTP header", "Origin": "an HTTP header", "Referer": "an HTTP header",
	"StatusCallback": "Twilio's parameter", "nonFixedVoip": "Twilio's line type", "sharedCost": "Twilio's line type",
	"tollFree": "Twilio's line type", "authResponseHeaders": "Traefik's option", "forwardAuth": "Traefik's middleware",
	"ErrConflict": "Badger's error", "EdDSA": "an algorithm", "forward.go": "Traefik's source file",
	"HttpOnly": "a cookie attribute", "SameSite": "a cookie attribute", "axe.min.js": "axe-core's file, from npm", "Calls.json": "Twilio's endpoint",
}

var (
	backticked = regexp.MustCompile("`([^`\n]+)`")
	link       = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading    = regexp.MustCompile(`(?m)^#+ (.+)$`)
)

// Every path, link, test and Go name the documents cite exists.
func TestCitationsExist(t *testing.T) {
	root := harness.Root(t)
	names := declared(t, root)
	top := map[string]bool{}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		top[e.Name()] = true
	}
	files := map[string]bool{} // base names of the repository's files
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[d.Name()] = true
		}
		return nil
	})
	for _, doc := range documents {
		raw, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		for _, m := range backticked.FindAllStringSubmatch(text, -1) {
			if why := checkCitation(root, m[1], top, files, names); why != "" {
				t.Errorf("%s cites `%s`: %s", doc, m[1], why)
			}
		}
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			if why := checkLink(root, doc, m[1]); why != "" {
				t.Errorf("%s links to %s: %s", doc, m[1], why)
			}
		}
	}
}

var (
	testName   = regexp.MustCompile(`^(Test|Benchmark|Fuzz|Example)[A-Z]\w*$`)
	qualified  = regexp.MustCompile(`^([A-Za-z]\w*)\.([A-Za-z_]\w*)(\(\))?$`)
	identifier = regexp.MustCompile(`^[A-Za-z]\w*(\(\))?$`)
	pathLike   = regexp.MustCompile(`^[\w.{}*-]+(/[\w.{}*-]*)+$`)
	fileLike   = regexp.MustCompile(`^[\w.-]+\.(go|sh|py|md|json|yml|conf|Caddyfile|html|css|js)$`)
)

// checkCitation says what is wrong with a backticked citation, or "".
func checkCitation(root, c string, top, files map[string]bool, names *goNames) string {
	if _, ok := others[c]; ok {
		return ""
	}
	switch {
	case pathLike.MatchString(c) && top[strings.SplitN(c, "/", 2)[0]]:
		matches, _ := filepath.Glob(filepath.Join(root, c))
		if len(matches) == 0 {
			return "no such path"
		}
	case fileLike.MatchString(c) && !strings.Contains(c, "/") && !names.ours(c):
		if !files[c] {
			return "no such file in the repository"
		}
	case testName.MatchString(c):
		if !names.tests[c] {
			return "no such test"
		}
	case qualified.MatchString(c):
		m := qualified.FindStringSubmatch(c)
		if !names.has(m[1], m[2]) {
			return "no such name"
		}
	case identifier.MatchString(c) && goLooking(strings.TrimSuffix(c, "()")):
		if !names.any[strings.TrimSuffix(c, "()")] {
			return "no such Go name"
		}
	}
	return ""
}

// goLooking is a word that reads as a Go name: mixed case (RevocationPoll,
// serveGate), not a plain word (realm) or one in capitals (GETDEL).
func goLooking(s string) bool {
	upper, lower := 0, 0
	for i, r := range s {
		switch {
		case unicode.IsUpper(r) && i > 0:
			upper++
		case unicode.IsLower(r):
			lower++
		}
	}
	return lower > 0 && (upper > 0 || unicode.IsUpper(rune(s[0])))
}

// checkLink checks a Markdown link to a file of the repository (and its
// heading, when it names one).
func checkLink(root, doc, target string) string {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return ""
	}
	path, anchor, _ := strings.Cut(target, "#")
	file := filepath.Join(root, doc)
	if path != "" {
		file = filepath.Join(root, filepath.Dir(doc), path)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		if _, serr := os.Stat(file); serr == nil {
			return "" // a folder or an image
		}
		return "no such file"
	}
	if anchor == "" || !strings.HasSuffix(file, ".md") {
		return ""
	}
	for _, h := range heading.FindAllStringSubmatch(string(raw), -1) {
		if slug(h[1]) == anchor {
			return ""
		}
	}
	return "no such heading"
}

// slug is GitHub's anchor of a heading.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// goNames are the names the repository's Go code declares.
type goNames struct {
	pkgs  map[string]map[string]bool // package → its names (types, funcs, methods, fields, consts, vars)
	types map[string]map[string]bool // type → its methods and fields
	any   map[string]bool
	tests map[string]bool
}

// ours reports whether c is one of our Go names, qualified (store.go
// could be a file or a name: a file, unless store declares go).
func (n *goNames) ours(c string) bool {
	m := qualified.FindStringSubmatch(c)
	if m == nil {
		return false
	}
	_, pkg := n.pkgs[m[1]]
	_, typ := n.types[m[1]]
	return (pkg || typ) && n.has(m[1], m[2])
}

func (n *goNames) has(x, sel string) bool {
	if names, ok := n.pkgs[x]; ok {
		return names[sel]
	}
	if members, ok := n.types[x]; ok {
		return members[sel]
	}
	return true // another's package or a variable: not ours to check
}

func declared(t *testing.T, root string) *goNames {
	t.Helper()
	n := &goNames{pkgs: map[string]map[string]bool{}, types: map[string]map[string]bool{}, any: map[string]bool{}, tests: map[string]bool{}}
	add := func(m map[string]map[string]bool, k, v string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][v] = true
		n.any[v] = true
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		pkg := f.Name.Name
		test := strings.HasSuffix(path, "_test.go")
		ast.Inspect(f, func(node ast.Node) bool {
			switch node := node.(type) {
			case *ast.FuncDecl:
				name := node.Name.Name
				if test && testName.MatchString(name) {
					n.tests[name] = true
				}
				add(n.pkgs, pkg, name)
				if node.Recv != nil {
					recv := node.Recv.List[0].Type
					if s, ok := recv.(*ast.StarExpr); ok {
						recv = s.X
					}
					if g, ok := recv.(*ast.IndexExpr); ok {
						recv = g.X
					}
					if id, ok := recv.(*ast.Ident); ok {
						add(n.types, id.Name, name)
					}
				}
			case *ast.TypeSpec:
				add(n.pkgs, pkg, node.Name.Name)
				var fields *ast.FieldList
				switch ty := node.Type.(type) {
				case *ast.StructType:
					fields = ty.Fields
				case *ast.InterfaceType:
					fields = ty.Methods
				}
				if fields != nil {
					for _, f := range fields.List {
						for _, id := range f.Names {
							add(n.types, node.Name.Name, id.Name)
						}
					}
				}
				if n.types[node.Name.Name] == nil {
					n.types[node.Name.Name] = map[string]bool{}
				}
			case *ast.ValueSpec:
				for _, id := range node.Names {
					add(n.pkgs, pkg, id.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Every screenshot in docs/screenshots is one the browser tests take (at
// each size and scheme), and every one they take is there: regenerate
// them with SMSGATE_SCREENSHOTS=1 go test ./browser.
func TestScreenshotsAreTheBrowserTests(t *testing.T) {
	root := harness.Root(t)
	shot := regexp.MustCompile(`\.shoot\("([\w-]+)"\)`)
	taken := map[string]bool{}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, "_test.go") {
			raw, _ := os.ReadFile(path)
			for _, m := range shot.FindAllStringSubmatch(string(raw), -1) {
				taken[m[1]] = true
			}
		}
		return nil
	})
	if len(taken) < 10 {
		t.Fatalf("found %d screenshots taken by the tests", len(taken))
	}
	files, _ := filepath.Glob(filepath.Join(root, "docs", "screenshots", "*"))
	have := map[string]bool{}
	for _, f := range files {
		have[filepath.Base(f)] = true
	}
	for name := range taken {
		for _, suffix := range []string{"phone", "phone-dark", "desktop", "desktop-dark"} {
			file := name + "-" + suffix + ".png"
			if !have[file] {
				t.Errorf("docs/screenshots has no %s, which the browser tests take", file)
			}
			delete(have, file)
		}
	}
	for file := range have {
		t.Errorf("docs/screenshots/%s is taken by no test: an old page", file)
	}
}

// The sizes docs/ARCHITECTURE.md promises hold: no non-test Go file
// over its line limit, and the Caddy module's package under its own.
func TestRoomsStaySmall(t *testing.T) {
	root := harness.Root(t)
	raw, err := os.ReadFile(filepath.Join(root, "docs/ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("no non-test Go file is over ([\\d,]+)\\s+lines, and `caddymodule` is at most ([\\d,]+) non-test lines").FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatal("docs/ARCHITECTURE.md no longer states the rooms' sizes")
	}
	fileLimit, moduleLimit := number(t, m[1]), number(t, m[2])
	moduleLines := 0
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		lines := strings.Count(string(raw), "\n")
		if lines > fileLimit {
			t.Errorf("%s has %d lines, over %d", rel, lines, fileLimit)
		}
		if filepath.Dir(rel) == "caddymodule" {
			moduleLines += lines
		}
		return nil
	})
	if moduleLines > moduleLimit {
		t.Errorf("caddymodule has %d non-test lines, over %d", moduleLines, moduleLimit)
	}
}

func number(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNoMergeLeftovers: a merge's conflict markers left in a document
// (gofmt finds them in Go, nothing did in Markdown: a README row was once
// committed between them, its citations still all true).
func TestNoMergeLeftovers(t *testing.T) {
	root := harness.Root(t)
	marker := regexp.MustCompile(`(?m)^(<{7}|={7}|>{7})( |$)`)
	for _, doc := range documents {
		raw, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		if loc := marker.FindIndex(raw); loc != nil {
			t.Errorf("%s:%d holds a merge's conflict marker", doc, 1+strings.Count(string(raw[:loc[0]]), "\n"))
		}
	}
}
