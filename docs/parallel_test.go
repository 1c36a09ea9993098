package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// serialOnPurpose are the top-level tests whose parts run in parallel
// while they themselves hold their package's serial phase, each for the
// reason given.
var serialOnPurpose = map[string]string{
	"signin.TestAFailedRekeyIsTriedAgain": "shortens rekey-retry, a package wait (clock.Shorten)",
	"bench.TestScriptsStart":              "runs with SMSGATE_FULL=1 only, each part a benchmark script that keeps both CPUs busy",
}

// TestPartsInParallelMakeTheirTestParallel (speed39): docs/TESTING.md's
// rule, "a test whose parts are parallel is parallel itself". A
// top-level test that runs parts in parallel (storetest.OnBadgerAndRedis,
// sitetest.OnEachStore or OnEachStoreFirst, or a t.Run whose function
// calls t.Parallel or sitetest.Parallel) and is not parallel itself holds
// its package's serial phase until its parts end, while every parallel
// test of the package waits to start: broken again and again by new
// tests (enrollment's thirteen console mints; then signin's, caddymodule's
// four and session's six), each seen only in a package's timeline. Each
// such test calls t.Parallel or sitetest.Parallel first, but those
// serialOnPurpose names.
func TestPartsInParallelMakeTheirTestParallel(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(harness.Root(t), "docs/TESTING.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "TestPartsInParallelMakeTheirTestParallel") {
		t.Error("docs/TESTING.md no longer names this rule: change this test with it")
	}
	root := harness.Root(t)
	fset := token.NewFileSet()
	seen, used := 0, map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" {
				continue
			}
			seen++
			if !partsInParallel(fn.Body) || parallelFirst(fn.Body) {
				continue
			}
			name := f.Name.Name + "." + fn.Name.Name
			if serialOnPurpose[name] != "" {
				used[name] = true
				continue
			}
			t.Errorf("%s: %s runs its parts in parallel but is not parallel itself (t.Parallel or sitetest.Parallel first): its package's parallel tests wait for it", filepath.ToSlash(rel), fn.Name.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 1000 {
		t.Fatalf("only %d tests read: the walk missed the module", seen)
	}
	for name := range serialOnPurpose {
		if !used[name] {
			t.Errorf("serialOnPurpose names %s, which is parallel or runs no parts in parallel now: take it out", name)
		}
	}
}

// parallelFirst is whether body's first statement makes its test
// parallel.
func parallelFirst(body *ast.BlockStmt) bool {
	if len(body.List) == 0 {
		return false
	}
	es, ok := body.List[0].(*ast.ExprStmt)
	if !ok {
		return false
	}
	return isCall(es.X, "t", "Parallel") || isCall(es.X, "sitetest", "Parallel")
}

// partsInParallel is whether body runs parts in parallel: a call of one
// of the helpers that do, or a t.Run whose function calls t.Parallel or
// sitetest.Parallel.
func partsInParallel(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, _ := sel.X.(*ast.Ident)
		switch {
		case pkg != nil && pkg.Name == "storetest" && sel.Sel.Name == "OnBadgerAndRedis",
			pkg != nil && pkg.Name == "sitetest" && slices.Contains([]string{"OnEachStore", "OnEachStoreFirst"}, sel.Sel.Name):
			found = true
		case sel.Sel.Name == "Run" && len(call.Args) == 2:
			if lit, ok := call.Args[1].(*ast.FuncLit); ok && parallelFirst(lit.Body) {
				found = true
			}
		}
		return !found
	})
	return found
}

// isCall is whether x calls recv.name.
func isCall(x ast.Expr, recv, name string) bool {
	call, ok := x.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == recv
}
