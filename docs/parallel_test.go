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
// top-level test that runs parts in parallel (storetest.OnBadgerAndRedis
// or OnBadgerAndRedisAs, sitetest.OnEachStore, OnEachStoreAs or
// OnEachStoreFirst, a t.Run whose function calls
// t.Parallel or sitetest.Parallel, or a helper of its package that does
// one of these) and is not parallel itself holds its package's serial
// phase until its parts end, while every parallel test of the package
// waits to start: broken again and again by new tests (enrollment's
// thirteen console mints; then signin's, caddymodule's four and
// session's six), each seen only in a package's timeline. Each such test
// calls t.Parallel or sitetest.Parallel first, but those serialOnPurpose
// names.
//
// The same holds of a subtest (speed40b): a serial subtest whose parts
// are parallel gives its parent's slot back while its parts run, and its
// parts queue for the package's parallel slots behind every waiting test;
// the subtest after it starts only once they end, and its own parts queue
// again (pages' TestARefusedNumberCountsInTheUsersWindows, 168 s of wall
// for ~3 s of its parts; caddymodule's
// TestGatesOfARealmThatHoldChangesDifferentlyAreWarnedOf). So every t.Run,
// in a test or in a helper, whose function runs parts in parallel calls
// t.Parallel first, and so do the functions it names.
//
// And a test or subtest whose parts are sitetest's (Caddy children) is
// parallel by sitetest.Parallel, not t.Parallel: with
// SMSGATE_SITETEST_SERIAL=1 sitetest.Parallel does nothing and the parts
// share the one in-process Caddy, which t.Parallel would have two tests
// load at once (pages' TestARefusedNumberCountsInTheUsersWindows, its two
// kinds by t.Parallel, failed so in every serial run).
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
	pkgs := map[string]*testPackage{}
	var order []string
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
		key := filepath.Dir(path) + " " + f.Name.Name
		p := pkgs[key]
		if p == nil {
			p = &testPackage{name: f.Name.Name, funcs: map[string]*ast.FuncDecl{}}
			pkgs[key] = p
			order = append(order, key)
		}
		p.files = append(p.files, f)
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Body != nil {
				p.funcs[fn.Name.Name] = fn
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen, subtests, used := 0, 0, map[string]bool{}
	for _, key := range order {
		p := pkgs[key]
		p.settle()
		for _, f := range p.files {
			rel, _ := filepath.Rel(root, fset.Position(f.Pos()).Filename)
			rel = filepath.ToSlash(rel)
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Recv != nil || fn.Body == nil {
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok || !isRun(call) {
						return true
					}
					subtests++
					body := p.runBody(call.Args[1])
					if body == nil {
						return true
					}
					if p.siteParts(body) && p.first(body) == "t" {
						t.Errorf("%s:%d: %s's subtest runs its parts on sitetest's Caddy children but is parallel by t.Parallel: with SMSGATE_SITETEST_SERIAL=1 it runs beside others on the one in-process Caddy (sitetest.Parallel first)", rel, fset.Position(call.Pos()).Line, fn.Name.Name)
					}
					if !p.partsInParallel(body) || p.parallelFirst(body) {
						return true
					}
					t.Errorf("%s:%d: %s's subtest runs its parts in parallel but is not parallel itself (t.Parallel first): its parts queue behind every waiting test of its package, and what its test runs after it waits for them", rel, fset.Position(call.Pos()).Line, fn.Name.Name)
					return true
				})
				if !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" {
					continue
				}
				seen++
				if p.siteParts(fn.Body) && p.first(fn.Body) == "t" {
					t.Errorf("%s: %s runs its parts on sitetest's Caddy children but is parallel by t.Parallel: with SMSGATE_SITETEST_SERIAL=1 it runs beside others on the one in-process Caddy (sitetest.Parallel first)", rel, fn.Name.Name)
				}
				if !p.partsInParallel(fn.Body) || p.parallelFirst(fn.Body) {
					continue
				}
				name := p.name + "." + fn.Name.Name
				if serialOnPurpose[name] != "" {
					used[name] = true
					continue
				}
				t.Errorf("%s: %s runs its parts in parallel but is not parallel itself (t.Parallel or sitetest.Parallel first): its package's parallel tests wait for it", rel, fn.Name.Name)
			}
		}
	}
	if seen < 1000 || subtests < 150 {
		t.Fatalf("only %d tests and %d subtests read: the walk missed the module", seen, subtests)
	}
	for name := range serialOnPurpose {
		if !used[name] {
			t.Errorf("serialOnPurpose names %s, which is parallel or runs no parts in parallel now: take it out", name)
		}
	}
}

// testPackage is one package's test files (a folder's package, or its
// _test package) and which of its functions run parts in parallel.
type testPackage struct {
	name     string
	files    []*ast.File
	funcs    map[string]*ast.FuncDecl
	parallel map[string]bool
	// site are the functions whose parallel parts are sitetest's (a
	// Caddy child each).
	site map[string]bool
}

// settle finds the package's functions that run parts in parallel, a
// helper calling such a helper among them.
func (p *testPackage) settle() {
	p.parallel, p.site = map[string]bool{}, map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, fn := range p.funcs {
			if !p.parallel[name] && p.partsInParallel(fn.Body) {
				p.parallel[name] = true
				changed = true
			}
			if !p.site[name] && p.siteParts(fn.Body) {
				p.site[name] = true
				changed = true
			}
		}
	}
}

// runBody is the body of the function a t.Run is given: a literal, or
// a function of the package named.
func (p *testPackage) runBody(x ast.Expr) *ast.BlockStmt {
	switch f := x.(type) {
	case *ast.FuncLit:
		return f.Body
	case *ast.Ident:
		if fn := p.funcs[f.Name]; fn != nil {
			return fn.Body
		}
	}
	return nil
}

// partsInParallel is whether body runs parts in parallel: a call of one
// of the helpers that do (sitetest's, storetest's or the package's own),
// or a t.Run whose function calls t.Parallel or sitetest.Parallel.
func (p *testPackage) partsInParallel(body *ast.BlockStmt) bool {
	return p.parts(body, false)
}

// siteParts is whether body's parallel parts are sitetest's: its
// OnEachStore, OnEachStoreAs or OnEachStoreFirst, a t.Run whose function
// calls sitetest.Parallel, or a helper of the package that does.
func (p *testPackage) siteParts(body *ast.BlockStmt) bool {
	return p.parts(body, true)
}

func (p *testPackage) parts(body *ast.BlockStmt, site bool) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		switch fun := call.Fun.(type) {
		case *ast.Ident:
			found = p.parallel[fun.Name] && !site || p.site[fun.Name] && site
		case *ast.SelectorExpr:
			pkg, _ := fun.X.(*ast.Ident)
			switch {
			case pkg != nil && pkg.Name == "storetest" && slices.Contains([]string{"OnBadgerAndRedis", "OnBadgerAndRedisAs"}, fun.Sel.Name):
				found = !site
			case pkg != nil && pkg.Name == "sitetest" && slices.Contains([]string{"OnEachStore", "OnEachStoreAs", "OnEachStoreFirst"}, fun.Sel.Name):
				found = true
			case isRun(call):
				if body := p.runBody(call.Args[1]); body != nil {
					first := p.first(body)
					found = first == "sitetest" || first == "t" && !site
				}
			}
		}
		return !found
	})
	return found
}

// isRun is whether call is a t.Run (or b.Run): a method Run of a name
// and a function.
func isRun(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Run" || len(call.Args) != 2 {
		return false
	}
	switch call.Args[1].(type) {
	case *ast.FuncLit, *ast.Ident:
		return true
	}
	return false
}

// parallelFirst is whether body's first statement makes its test
// parallel: t.Parallel, sitetest.Parallel, or a call of a helper of the
// package whose first statement does; declarations and assignments that
// call nothing may come before it (numberrace_test.go's challenges, made
// before loginRace, which is parallel first).
func (p *testPackage) parallelFirst(body *ast.BlockStmt) bool {
	return p.first(body) != ""
}

// first is what makes body's test parallel first: "t" (t.Parallel),
// "sitetest" (sitetest.Parallel), or "" (neither).
func (p *testPackage) first(body *ast.BlockStmt) string {
	return p.firstOnce(body, map[string]bool{})
}

func (p *testPackage) firstOnce(body *ast.BlockStmt, asked map[string]bool) string {
	i := 0
	for i < len(body.List) && callsNothing(body.List[i]) {
		i++
	}
	if i == len(body.List) {
		return ""
	}
	es, ok := body.List[i].(*ast.ExprStmt)
	if !ok {
		return ""
	}
	if isCall(es.X, "t", "Parallel") {
		return "t"
	}
	if isCall(es.X, "sitetest", "Parallel") {
		return "sitetest"
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return ""
	}
	id, ok := call.Fun.(*ast.Ident)
	if !ok || asked[id.Name] || p.funcs[id.Name] == nil {
		return ""
	}
	asked[id.Name] = true
	return p.firstOnce(p.funcs[id.Name].Body, asked)
}

// callsNothing is whether stmt is a declaration or an assignment that
// calls nothing.
func callsNothing(stmt ast.Stmt) bool {
	switch stmt.(type) {
	case *ast.DeclStmt, *ast.AssignStmt:
	default:
		return false
	}
	calls := false
	ast.Inspect(stmt, func(n ast.Node) bool {
		_, ok := n.(*ast.CallExpr)
		calls = calls || ok
		return !calls
	})
	return !calls
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
