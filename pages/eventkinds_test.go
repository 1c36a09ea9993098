package pages_test

import (
	"fmt"
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/words"
)

// deliveryStatuses are the ends of a delivery receipt pages/receipts.go
// audits as delivery_<status>: what providers.Receipts.Receipt answers
// but "pending" (not audited).
var deliveryStatuses = []string{"delivered", "failed"}

// TestEveryEventKindHasWords: every kind of event the code can emit (the
// first argument of each Audit call, the second of each Alarm, read from
// the source as the words' own test reads their IDs) has words in every
// language the catalogue ships ("audit." and the kind), as every reason
// has its status (TestEveryReasonHasAStatus): a kind added without them
// fails here, not on the admin's page (walk29, 48: delivery_delivered,
// admin_users shown by their IDs). A kind the test cannot read (built
// from a variable) fails too, until it is taught here how to list them.
func TestEveryEventKindHasWords(t *testing.T) {
	t.Parallel()
	kinds := eventKinds(t)
	if len(kinds) < 40 {
		t.Fatalf("the code emits %d kinds of event: the source was not read (%v)", len(kinds), kinds)
	}
	for _, kind := range kinds {
		for _, lang := range words.English.Langs() {
			if said := words.English.T(lang, "audit."+kind); said == "audit."+kind || lang != "en" && said == words.English.T("en", "audit."+kind) {
				t.Errorf("event %s has no words in %s (audit.%s)", kind, lang, kind)
			}
		}
	}
}

// kinds is what readEventKinds found, read once for the three tests
// that ask (eventKinds), with what it could not read.
var kinds struct {
	once     sync.Once
	list     []string
	problems []string // each a test's error, for every test that asks
	fatal    string   // the first test's fatal error, every later one's too
}

// eventKinds reads every kind of event the module's code can emit (once:
// each of the three tests that ask made the whole walk over the module's
// syntax trees), failing t as the read's problems say.
func eventKinds(t *testing.T) []string {
	t.Helper()
	kinds.once.Do(func() {
		kinds.fatal = "the event kinds could not be read (the first test that read them says why)"
		var r recorder
		kinds.list = readEventKinds(t, &r)
		kinds.problems, kinds.fatal = r.errors, r.fatal
	})
	for _, p := range kinds.problems {
		t.Error(p)
	}
	if kinds.fatal != "" {
		t.Fatal(kinds.fatal)
	}
	return kinds.list
}

// recorder keeps readEventKinds' errors for every test that asks.
type recorder struct {
	errors []string
	fatal  string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

// readEventKinds reads every kind of event the module's code can emit,
// telling r what it cannot read.
func readEventKinds(t *testing.T, r *recorder) []string {
	fset, files := moduleFiles(t)
	consts := map[string]string{} // a string constant's name → its value
	var adminOps []string         // the cases of admin's adminOp, audited as admin_<op>
	for _, file := range files {
		f := file.File
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.FuncDecl:
				if n.Name.Name == "adminOp" && f.Name.Name == "admin" {
					ast.Inspect(n.Body, func(c ast.Node) bool {
						if cc, ok := c.(*ast.CaseClause); ok {
							for _, e := range cc.List {
								if lit, ok := e.(*ast.BasicLit); ok {
									op, _ := strconv.Unquote(lit.Value)
									adminOps = append(adminOps, strings.NewReplacer("/", "_", "-", "_").Replace(op))
								}
							}
						}
						return true
					})
				}
			}
			return true
		})
	}
	if len(adminOps) < 5 {
		r.Fatalf("admin's adminOp has %d cases: not read", len(adminOps))
		return nil
	}
	var kinds []string
	for _, file := range files {
		f := file.File
		ast.Inspect(f, func(n ast.Node) bool {
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
			at := map[string]int{"Audit": 0, "audit": 0, "Alarm": 1}
			i, ok := at[name]
			if !ok || len(call.Args) <= i {
				return true
			}
			where := fset.Position(call.Pos()).String()
			switch arg := call.Args[i].(type) {
			case *ast.BasicLit:
				kind, _ := strconv.Unquote(arg.Value)
				kinds = append(kinds, kind)
			case *ast.Ident:
				if v, ok := consts[arg.Name]; ok {
					kinds = append(kinds, v)
				} else if arg.Name != "event" { // a wrapper's own parameter (signin's audit)
					r.Errorf("%s: an event's kind from %s, which this test cannot read: teach it", where, arg.Name)
				}
			case *ast.BinaryExpr:
				prefix := ""
				if lit, ok := arg.X.(*ast.BasicLit); ok {
					prefix, _ = strconv.Unquote(lit.Value)
				}
				switch prefix {
				case "admin_": // admin's Change: "admin_" and its op
					for _, op := range adminOps {
						kinds = append(kinds, prefix+op)
					}
				case "delivery_":
					for _, s := range deliveryStatuses {
						kinds = append(kinds, prefix+s)
					}
				default:
					r.Errorf("%s: an event's kind built from %q and more, which this test cannot read: teach it", where, prefix)
				}
			default:
				r.Errorf("%s: an event's kind this test cannot read: teach it", where)
			}
			return true
		})
	}
	slices.Sort(kinds)
	return slices.Compact(kinds)
}

// TestEveryEventKindHasAnActor: every kind of event the code can emit says
// who did it when its "by" is empty (walk33: a resume from the CLI showed
// an empty "By" on the console's what happened), in every language the
// catalogue ships; and the kinds an admin's API or CLI makes say so.
func TestEveryEventKindHasAnActor(t *testing.T) {
	t.Parallel()
	for _, kind := range eventKinds(t) {
		id := pages.ActorID(kind)
		for _, lang := range words.English.Langs() {
			if said := words.English.T(lang, id); id == "" || said == id || lang != "en" && said == words.English.T("en", id) {
				t.Errorf("event %s: who did it (%q) has no words in %s", kind, id, lang)
			}
		}
		if want := "by.admin_api"; (strings.HasPrefix(kind, "admin_") || kind == "pumping_resumed" || kind == "store_accepted") && id != want {
			t.Errorf("event %s is by %s, want %s", kind, id, want)
		}
	}
}

// TestEveryEventKindHasAFilter: every kind of event the code can emit is
// under one of the console's filters of what happened (walk33: device
// changes, sign-outs and notices were under none, and "Sign-ins" missed
// the sign-ins with a code), and each filter has words in every language.
func TestEveryEventKindHasAFilter(t *testing.T) {
	t.Parallel()
	_, ids, prefixes := pages.EventFilters()
	for _, kind := range eventKinds(t) {
		if !slices.ContainsFunc(prefixes, func(ps []string) bool {
			return slices.ContainsFunc(ps, func(p string) bool { return strings.HasPrefix(kind, p) })
		}) {
			t.Errorf("event %s is under no filter of what happened", kind)
		}
	}
	for _, id := range ids {
		for _, lang := range words.English.Langs() {
			if said := words.English.T(lang, id); said == id { // German's "Codes" and "Limits" are English's
				t.Errorf("the filter %s has no words in %s", id, lang)
			}
		}
	}
	for _, kind := range []string{"verified", "signed_in_trusted"} {
		if !slices.Contains(prefixes[0], kind) && !strings.HasPrefix(kind, prefixes[0][0]) {
			t.Errorf("Sign-ins (%v) misses %s", prefixes[0], kind)
		}
	}
}
