package pages_test

import (
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/smsgate/caddy-smsgate/words"
)

// TestEveryEventDetailHasWords: every field an Audit, audit or Alarm call
// passes as zap.String, zap.Int… or zap.Bool with a written key (what the
// console's what happened shows as its details: audit.recentEvent) has a
// label in every language the catalogue ships ("detail." and the key):
// walk35 found "minted_by: frank" on the console, in English and German,
// a key added that morning without words.
func TestEveryEventDetailHasWords(t *testing.T) {
	t.Parallel()
	shown := map[string]bool{"String": true, "Int": true, "Int64": true, "Int32": true, "Bool": true}
	// Not details: the row's own columns (recentEvent).
	columns := map[string]bool{"by": true, "phone": true}
	_, files := moduleFiles(t)
	var keys []string
	for _, file := range files {
		ast.Inspect(file.File, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := ""
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				name = fun.Sel.Name
			case *ast.Ident:
				name = fun.Name
			}
			if name != "Audit" && name != "audit" && name != "Alarm" {
				return true
			}
			for _, arg := range call.Args {
				field, ok := arg.(*ast.CallExpr)
				if !ok || len(field.Args) == 0 {
					continue
				}
				sel, ok := field.Fun.(*ast.SelectorExpr)
				if !ok {
					continue
				}
				if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "zap" || !shown[sel.Sel.Name] {
					continue
				}
				if lit, ok := field.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					key, _ := strconv.Unquote(lit.Value)
					if !columns[key] {
						keys = append(keys, key)
					}
				}
			}
			return true
		})
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) < 10 {
		t.Fatalf("the code's events pass %d detail keys: the source was not read (%v)", len(keys), keys)
	}
	for _, key := range keys {
		for _, lang := range words.English.Langs() {
			if said := words.English.T(lang, "detail."+key); said == "detail."+key {
				t.Errorf("an event's detail %s has no words in %s (detail.%s)", key, lang, key)
			}
		}
	}
}
