package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
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
	// Tools and test rigs, not rooms of the gate.
	rigs := []string{"bench", "cmd", "browser", "internal/harness", "internal/fakes", "internal/sitetest", "store/storetest"}
	for _, f := range harness.GoFiles(t, token.NewFileSet(), parser.ImportsOnly, rigs...) {
		room := strings.Split(f.Rel, "/")[0]
		if !slices.Contains(glue, room) {
			// The one *http.Request a provider may name is the redirect its
			// client refuses to follow: its own call, not a request it takes.
			calls := strings.ReplaceAll(string(f.Src), "func noRedirect(*http.Request, []*http.Request) error", "")
			for _, http := range []string{"*http.Request", "http.ResponseWriter"} {
				if strings.Contains(calls, http) {
					t.Errorf("%s, below the glue, knows %s", f.Rel, http)
				}
			}
		}
		for _, imp := range f.File.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == "html/template" && room != "pages" && room != "chart":
				t.Errorf("%s renders an HTML template: only the pages do (and chart, their SVG)", f.Rel)
			case (strings.HasPrefix(p, "github.com/dgraph-io/badger") || strings.HasPrefix(p, "github.com/redis/go-redis")) && room != "store":
				t.Errorf("%s imports %s: only store knows a database", f.Rel, p)
			}
		}
	}
}

// TestTheGlueEndsNoInvites (#23): whether an end also ends the console
// invites minted through what it ended is signin's decision (signin.Ends,
// phones.go, minted.go, provisioned.go), made once for the pages, the
// console and the admin's tools: no file of the glue ends an admin's
// invites itself (session.EndMinted, EndMintedOf) nor picks which
// (session.MintedIn, MintedOf…, MintedUntil). Nor does it order a
// reset's or a revoke's ends and decide their audit (adminops38:
// signin.Ends.Reset, Revoke): no session.EndUser…, RevokeUser or
// UntrustAll in the glue, and no ResetUser of anything (enrollment's).
// Nor does a sign-in's page decide what a sign-in ends of the session its
// browser's cookie named (redesign39: signin.Ends.EndReplaced): no
// Replaced of anything (session.Manager's was), no session.MoveMinted.
func TestTheGlueEndsNoInvites(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(harness.Root(t), "docs/ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "TestTheGlueEndsNoInvites") {
		t.Error("docs/ARCHITECTURE.md no longer names this rule: change this test with it")
	}
	others := []string{"bench", "cmd", "browser", "internal/harness", "internal/fakes", "internal/sitetest", "store/storetest"}
	for _, f := range harness.GoFiles(t, token.NewFileSet(), 0, others...) {
		room := strings.Split(f.Rel, "/")[0]
		if room != "caddymodule" && room != "pages" && room != "admin" {
			continue
		}
		ast.Inspect(f.File, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, _ := sel.X.(*ast.Ident); pkg != nil && pkg.Name == "session" &&
				(strings.HasPrefix(sel.Sel.Name, "EndMinted") || strings.HasPrefix(sel.Sel.Name, "MintedIn") ||
					strings.HasPrefix(sel.Sel.Name, "MintedOf") || sel.Sel.Name == "MintedUntil") {
				t.Errorf("%s names session.%s: the glue renders signin's ends (signin.Ends), it does not decide what they end", f.Rel, sel.Sel.Name)
			}
			if pkg, _ := sel.X.(*ast.Ident); pkg != nil && pkg.Name == "session" &&
				(strings.HasPrefix(sel.Sel.Name, "EndUser") || sel.Sel.Name == "RevokeUser" || sel.Sel.Name == "UntrustAll") ||
				sel.Sel.Name == "ResetUser" {
				t.Errorf("%s names %s: a reset's and a revoke's ends are signin's (signin.Ends.Reset, Revoke), the glue renders them", f.Rel, sel.Sel.Name)
			}
			if pkg, _ := sel.X.(*ast.Ident); sel.Sel.Name == "Replaced" || pkg != nil && pkg.Name == "session" && sel.Sel.Name == "MoveMinted" {
				t.Errorf("%s names %s: what a sign-in ends of the session it replaced is signin's (signin.Ends.EndReplaced), the pages pass the old cookie", f.Rel, sel.Sel.Name)
			}
			return true
		})
	}
}
