package caddymodule

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Gate is the configuration; the running gate (gate, runtime.go) serves.
// So no method of Gate but Caddy's ServeHTTP takes a request or writes an
// answer: a request path written as a method of Gate again fails here.
func TestGateServesOnlyThroughTheRunningGate(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || recvName(fn) != "Gate" {
				continue
			}
			seen++
			for _, p := range fn.Type.Params.List {
				if typ := httpType(p.Type); (typ == "*http.Request" || typ == "http.ResponseWriter") && fn.Name.Name != "ServeHTTP" {
					t.Errorf("%s: Gate.%s takes a %s: serving is the running gate's (gate)", fset.Position(fn.Pos()), fn.Name.Name, typ)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no method of Gate found: is the test in caddymodule?")
	}
}

// recvName is the name of fn's receiver type, without its star.
func recvName(fn *ast.FuncDecl) string {
	e := fn.Recv.List[0].Type
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// httpType spells a parameter's type as the source does, for the two
// net/http types the test looks for.
func httpType(e ast.Expr) string {
	star := ""
	if s, ok := e.(*ast.StarExpr); ok {
		star, e = "*", s.X
	}
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if pkg, ok := sel.X.(*ast.Ident); ok {
			return star + pkg.Name + "." + sel.Sel.Name
		}
	}
	return ""
}
