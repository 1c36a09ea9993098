package words

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"golang.org/x/text/language"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// What the code says to people, read from the source: the message ids in
// its Go files, the pages' own words in its templates and in its T and N
// calls, and the text its templates hold outside them.
type said struct {
	ids      map[string]string // id → where it is used
	prefixes map[string]string // "limit." + name → where
	page     map[string]string // a page's own words (an English text, or an id with a count) → where
	loose    []string          // words for people written straight into a template
}

// idShape is how a message id looks: lower-case words joined by dots.
var idShape = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z_]+)+$`)

// readSource reads every Go file (not tests) and template of the module.
func readSource(t *testing.T, namespaces map[string]bool) *said {
	t.Helper()
	root := harness.Root(t)
	s := &said{ids: map[string]string{}, prefixes: map[string]string{}, page: map[string]string{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			s.readGo(t, path, rel, namespaces)
		case strings.HasSuffix(path, ".html"):
			s.readTemplate(t, path, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *said) readGo(t *testing.T, path, rel string, namespaces map[string]bool) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	where := func(n ast.Node) string { return rel + ":" + strconv.Itoa(fset.Position(n.Pos()).Line) }
	isID := func(v string) bool { return idShape.MatchString(v) && namespaces[v[:strings.IndexByte(v, '.')]] }
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if v, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && isID(v) {
				s.ids[v] = where(n)
			}
		case *ast.BinaryExpr: // "limit." + e.Limit
			if lit, ok := n.X.(*ast.BasicLit); ok && n.Op == token.ADD && lit.Kind == token.STRING {
				if v, _ := strconv.Unquote(lit.Value); strings.HasSuffix(v, ".") && namespaces[strings.TrimSuffix(v, ".")] {
					s.prefixes[v] = where(n)
				}
			}
		case *ast.CallExpr: // T(lang, "Send code"), N("Sign in")
			name := ""
			switch fun := n.Fun.(type) {
			case *ast.SelectorExpr:
				name = fun.Sel.Name
			case *ast.Ident:
				name = fun.Name
			}
			if name != "T" && name != "N" {
				return true
			}
			for _, arg := range n.Args[:min(2, len(n.Args))] {
				if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if v, _ := strconv.Unquote(lit.Value); !isID(v) {
						s.page[v] = where(n)
					}
				}
			}
		}
		return true
	})
}

var (
	action = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tag    = regexp.MustCompile(`(?s)<[^>]*>`)
)

func (s *said) readTemplate(t *testing.T, path, rel string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := parse.New(rel)
	tr.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := tr.Parse(string(raw), "{{", "}}", trees); err != nil {
		t.Fatal(err)
	}
	for _, tree := range trees {
		walk(tree.Root, func(c *parse.CommandNode) {
			// {{call .T "text" ...}} and {{call $.T "text" ...}}
			if len(c.Args) < 3 || c.Args[0].String() != "call" || !strings.HasSuffix(c.Args[1].String(), ".T") {
				return
			}
			if str, ok := c.Args[2].(*parse.StringNode); ok {
				s.page[str.Text] = rel
			}
		})
	}
	// What is left once actions and tags are gone is shown as it is
	// written: it must hold no word.
	for _, line := range strings.Split(tag.ReplaceAllString(action.ReplaceAllString(string(raw), "\x00"), ""), "\n") {
		if strings.IndexFunc(line, unicode.IsLetter) >= 0 {
			s.loose = append(s.loose, rel+": "+strings.TrimSpace(strings.ReplaceAll(line, "\x00", "{{…}}")))
		}
	}
}

// walk calls f on every command of a template, in every branch.
func walk(n parse.Node, f func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walk(c, f)
			}
		}
	case *parse.ActionNode:
		walk(n.Pipe, f)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walk(c, f)
			}
		}
	case *parse.CommandNode:
		f(n)
		for _, a := range n.Args {
			walk(a, f)
		}
	case *parse.IfNode:
		walk(n.Pipe, f)
		walk(n.List, f)
		walk(n.ElseList, f)
	case *parse.RangeNode:
		walk(n.Pipe, f)
		walk(n.List, f)
		walk(n.ElseList, f)
	case *parse.WithNode:
		walk(n.Pipe, f)
		walk(n.List, f)
		walk(n.ElseList, f)
	case *parse.TemplateNode:
		walk(n.Pipe, f)
	}
}

// Every sentence for people is in the catalogues, in every language they
// ship, with the same arguments and every plural form the language needs;
// and nothing in them is dead.
func TestEveryTextIsInEveryLanguage(t *testing.T) {
	files, _ := builtin.ReadDir("catalogue")
	shipped := map[string]map[string]string{}
	for _, f := range files {
		raw, _ := builtin.ReadFile("catalogue/" + f.Name())
		if dup := duplicateKey(raw); dup != "" {
			t.Errorf("%s holds %q twice (the first is lost)", f.Name(), dup)
		}
		var texts map[string]string
		if err := json.Unmarshal(raw, &texts); err != nil {
			t.Fatal(err)
		}
		shipped[strings.TrimSuffix(f.Name(), ".json")] = texts
	}
	en := shipped["en"]
	counts := countIDs(en)
	namespaces := map[string]bool{}
	ids := map[string]bool{} // en's ids, a text with a count once
	for key := range en {
		id := key
		if base, _, ok := formOfKey(counts, key); ok {
			id = base
		}
		ids[id] = true
		namespaces[id[:strings.IndexByte(id, '.')]] = true
	}
	s := readSource(t, namespaces)

	// Code → catalogue: every id and page text the code says exists.
	for id, where := range s.ids {
		if !ids[id] {
			t.Errorf("%s says %q, which en.json does not have", where, id)
		}
	}
	for prefix, where := range s.prefixes {
		if !slices.ContainsFunc(slices.Collect(mapKeys(ids)), func(id string) bool { return strings.HasPrefix(id, prefix) }) {
			t.Errorf("%s builds ids from %q, but en.json has none", where, prefix)
		}
	}
	for _, line := range s.loose {
		t.Errorf("words written straight into a template (say them with T): %s", line)
	}
	// Catalogue → code: every id is said somewhere (ids built from a
	// prefix count for all of theirs).
	for id := range ids {
		_, used := s.ids[id]
		_, page := s.page[id]
		for prefix := range s.prefixes {
			used = used || strings.HasPrefix(id, prefix)
		}
		if !used && !page {
			t.Errorf("en.json: %q is said nowhere", id)
		}
	}

	for lang, texts := range shipped {
		if lang == "en" {
			continue
		}
		need := FormsOf(language.Make(lang))
		for id := range ids {
			want := placeholdersOf(en, counts, id+".other")
			keys := []string{id}
			if counts[id] {
				keys = nil
				for _, f := range need {
					keys = append(keys, id+"."+f)
				}
			} else {
				want = placeholdersOf(en, counts, id)
			}
			for _, key := range keys {
				text, ok := texts[key]
				if !ok {
					t.Errorf("%s.json has no %q", lang, key)
					continue
				}
				if got := argsOf(text); !sameSet(got, want) && !(counts[id] && sameSet(append(got, "n"), want)) {
					t.Errorf("%s.json: %q says %v, English %v", lang, key, got, want)
				}
			}
		}
		for key, where := range s.page {
			if counts[key] || ids[key] {
				continue
			}
			text, ok := texts[key]
			if !ok {
				t.Errorf("%s says %q, which %s.json does not translate", where, key, lang)
			} else if !sameSet(argsOf(text), argsOf(key)) {
				t.Errorf("%s.json: %q says %v, English %v", lang, key, argsOf(text), argsOf(key))
			}
		}
		for key := range texts {
			_, page := s.page[key]
			id := key
			if base, _, ok := formOfKey(counts, key); ok {
				id = base
			}
			if !page && !ids[id] {
				t.Errorf("%s.json: %q is said nowhere", lang, key)
			}
		}
	}
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func argsOf(text string) []string {
	var names []string
	for _, p := range placeholder.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(names, p[1]) {
			names = append(names, p[1])
		}
	}
	slices.Sort(names)
	return names
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// duplicateKey finds a key an object holds twice (json.Unmarshal keeps
// the last one silently).
func duplicateKey(raw []byte) string {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	seen := map[string]bool{}
	if _, err := dec.Token(); err != nil {
		return ""
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := k.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		if _, err := dec.Token(); err != nil {
			return ""
		}
	}
	return ""
}
