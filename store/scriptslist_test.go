package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryRedisScriptIsInTheListLoadedAtOpen (review40 R3):
// TestEveryScriptIsLoadedAtOpen asks the servers about ScriptHashes(),
// made from `scripts` itself, so a script declared but left out of that
// list (windowCount, say) passed it. This reads the package's source:
// every redis.NewScript variable is in `scripts`.
func TestEveryRedisScriptIsInTheListLoadedAtOpen(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	declared := map[string]bool{}
	var listed []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, v := range vs.Values {
				switch v := v.(type) {
				case *ast.CallExpr:
					if sel, ok := v.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewScript" {
						declared[vs.Names[i].Name] = true
					}
				case *ast.CompositeLit:
					if vs.Names[i].Name != "scripts" {
						continue
					}
					for _, e := range v.Elts {
						id, ok := e.(*ast.Ident)
						if !ok {
							t.Fatalf("scripts lists %T, not a script variable", e)
						}
						listed = append(listed, id.Name)
					}
				}
			}
			return true
		})
	}
	if len(declared) == 0 || len(listed) == 0 {
		t.Fatalf("found %d scripts and a list of %d: the source no longer reads as this test expects", len(declared), len(listed))
	}
	for _, name := range listed {
		delete(declared, name)
	}
	if len(declared) > 0 {
		t.Fatalf("redis scripts not in `scripts` (not loaded at Open): %v", declared)
	}
}
