package harness

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// DeclaredErrors are the exported errors of the module's packages pkgs,
// "pkg.Name", read from their source: each var named Err… or made by
// errors.New, fmt.Errorf, words.New or words.Newf, and each type with an
// Error() string method. The tests that hold every error to a table of
// statuses read them (signin's refusals, the admin's).
func DeclaredErrors(t testing.TB, pkgs ...string) []string {
	t.Helper()
	var out []string
	for _, pkg := range pkgs {
		dir := filepath.Join(Root(t), pkg)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.GenDecl:
					if d.Tok != token.VAR {
						continue
					}
					for _, s := range d.Specs {
						vs := s.(*ast.ValueSpec)
						for i, n := range vs.Names {
							if n.IsExported() && (strings.HasPrefix(n.Name, "Err") || (i < len(vs.Values) && makesError(vs.Values[i]))) {
								out = append(out, pkg+"."+n.Name)
							}
						}
					}
				case *ast.FuncDecl:
					if d.Recv == nil || d.Name.Name != "Error" || d.Type.Params.NumFields() != 0 || d.Type.Results.NumFields() != 1 {
						continue
					}
					recv := d.Recv.List[0].Type
					if star, ok := recv.(*ast.StarExpr); ok {
						recv = star.X
					}
					if id, ok := recv.(*ast.Ident); ok && id.IsExported() {
						out = append(out, pkg+"."+id.Name)
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// makesError says whether x is a call that makes an error.
func makesError(x ast.Expr) bool {
	call, ok := x.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return false
	}
	switch pkg.Name + "." + sel.Sel.Name {
	case "errors.New", "fmt.Errorf", "words.New", "words.Newf":
		return true
	}
	return false
}
