package caddymodule

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/storewatch"
)

// The README's Caddyfile syntax is the parser's, both ways, so that they
// cannot drift: every option the parser knows is in the README's block
// (and in UnmarshalCaddyfile's godoc, the same block), every option there
// parses, and each has a row in the README's table.
func TestREADMEOptionsAreTheParsers(t *testing.T) {
	t.Parallel()
	readme := readDoc(t, "README.md")
	block := syntaxBlock(t, readme, "smsgate [<matcher>] {")
	godoc := gateGodoc(t)
	if !slices.Equal(block, godoc) {
		t.Errorf("README.md's option block and UnmarshalCaddyfile's godoc differ:\nREADME: %q\ngodoc:  %q", block, godoc)
	}
	rows := tableRows(readme)
	var inREADME []string
	for _, line := range block {
		inREADME = append(inREADME, strings.Fields(line)[0])
	}
	known := parserOptions(t)
	for _, opt := range known {
		if !slices.Contains(inREADME, opt) {
			t.Errorf("the parser knows %q, which README.md's block does not list", opt)
		}
	}
	for _, opt := range inREADME {
		if !slices.Contains(known, opt) {
			t.Errorf("README.md's block lists %q, which the parser has no case for", opt)
		}
		// Given no arguments, a known option says what it wants; an
		// unknown one is "unrecognized".
		err := new(Gate).UnmarshalCaddyfile(caddyfile.NewTestDispenser("smsgate {\n" + opt + "\n}"))
		if err != nil && strings.Contains(err.Error(), "unrecognized") {
			t.Errorf("README.md's %q does not parse: %v", opt, err)
		}
		// Over the rows that name it: over all of the README's rows the
		// race detector's work on the regexp's machine was ~0.2 s of CPU.
		named := linesWhere(rows, func(line string) bool { return strings.Contains(line, "`"+opt) })
		if !regexp.MustCompile("(?m)^\\| [^|]*`" + regexp.QuoteMeta(opt) + "[ `]").MatchString(named) {
			t.Errorf("README.md's table has no row for %q", opt)
		}
	}
}

// The figures the README's table gives as defaults are the code's.
func TestREADMEDefaultsAreTheCodes(t *testing.T) {
	t.Parallel()
	readme := readDoc(t, "README.md")
	rows := tableRows(readme)
	row := func(opt string) string {
		m := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(opt) + "[^|]*\\| ([^|]*) \\|").FindStringSubmatch(rows)
		if m == nil {
			t.Fatalf("README.md has no row for %s", opt)
		}
		return m[1]
	}
	g := Gate{}.withDefaults()
	for opt, want := range map[string]string{
		"identity":         "`" + g.Identity + "`",
		"session_lifetime": "`" + caddyDuration(g.SessionLifetime) + "`",
		"code_length":      "`" + strconv.Itoa(g.CodeLength) + "`",
		"code_ttl":         "`" + caddyDuration(g.CodeTTL) + "`",
		"max_attempts":     "`" + strconv.Itoa(g.MaxAttempts) + "`",
		"resend_cooldown":  "`" + caddyDuration(g.ResendCooldown) + "`",
		"remember":         "`" + caddyDuration(g.Remember) + "`",
		"path_prefix":      "`" + g.PathPrefix + "`",
		"step_up":          "`" + caddyDuration(g.StepUp) + "`",
		"lockout_after":    "`" + strconv.Itoa(enrollment.DefaultLimits.LockAfter) + "` / `" + caddyDuration(caddy.Duration(enrollment.DefaultLimits.Lockout)) + "`",
		"max_failures":     "`" + strconv.Itoa(enrollment.DefaultLimits.MaxFailures) + "`",
	} {
		if got := row(opt); got != want {
			t.Errorf("README.md: %s defaults to %s, the code to %s", opt, got, want)
		}
	}
	// The limits: `user 10 1h`, … every one, each as the code has it.
	defaults := row("limit <name> <count> <window>")
	named := regexp.MustCompile("`(\\w+) (\\d+) (\\w+)`").FindAllStringSubmatch(defaults, -1)
	if len(named) != len(enrollment.LimitNames) {
		t.Errorf("README.md gives %d limits' defaults, the code has %d", len(named), len(enrollment.LimitNames))
	}
	for _, m := range named {
		l := enrollment.DefaultLimits
		r := l.Named(m[1])
		if r == nil {
			t.Errorf("README.md gives a default for limit %q, which the code does not have", m[1])
			continue
		}
		if got := m[2] + " " + m[3]; got != strconv.Itoa(r.Count)+" "+caddyDuration(caddy.Duration(r.Window)) {
			t.Errorf("README.md: limit %s defaults to %s, the code to %d %s", m[1], got, r.Count, r.Window)
		}
	}
	for _, name := range enrollment.LimitNames {
		if new(enrollment.Limits).Named(name) == nil {
			t.Errorf("limit %q has no place in enrollment.Limits", name)
		}
		if !strings.Contains(enrollment.LimitList(), name) {
			t.Errorf("the error for an unknown limit does not name %q", name)
		}
	}
	// The defaults the README's opening and quickstart promise, and
	// SECURITY.md's trusted browsers.
	hours := strconv.Itoa(int(DefaultSessionLifetime/time.Hour)) + " hours"
	days := strconv.Itoa(int(DefaultRemember/(24*time.Hour))) + " days"
	for _, doc := range []struct{ name, text, want string }{
		{"README.md", readme, "type it, and are in for " + hours + "."},
		{"README.md", readme, `unless you ticked "Trust this browser for ` + days + `".`},
		{"README.md", readme, `offers "Trust this browser for ` + days + `", unticked`},
		{"SECURITY.md", readDoc(t, "SECURITY.md"), "offered by default (" + days + ", unticked)"},
	} {
		if !strings.Contains(strings.Join(strings.Fields(doc.text), " "), doc.want) {
			t.Errorf("%s does not say %q", doc.name, doc.want)
		}
	}
	// The account lock, in the README's words, the config's godoc and
	// SECURITY.md.
	lock := strconv.Itoa(int(enrollment.AccountLockout/time.Minute)) + " minutes"
	for _, doc := range []struct{ name, text, around string }{
		{"README.md", readme, "wrong codes in a row, from anywhere, that lock an account for "},
		{"config.go", strings.ReplaceAll(readDoc(t, "caddymodule/config.go"), "//", ""), "from any IP, that lock an account for "},
		{"SECURITY.md", readDoc(t, "SECURITY.md"), "lock the account for **"},
		{"SECURITY.md", readDoc(t, "SECURITY.md"), "wrong codes in a row per account → locked "},
	} {
		if !strings.Contains(strings.Join(strings.Fields(doc.text), " "), doc.around+lock) {
			t.Errorf("%s does not say %q%s", doc.name, doc.around, lock)
		}
	}
}

// README.md's pumping_guard row gives the guard's defaults (the
// ranges are TestREADMERangesAreTheTables').
func TestREADMEPumpingGuardDefaultsAreTheCodes(t *testing.T) {
	t.Parallel()
	readme := readDoc(t, "README.md")
	d := func(v time.Duration) string { return caddyDuration(caddy.Duration(v)) }
	p := pumping.Defaults
	guard := fmt.Sprintf("| on: `window %s`, `prefix_digits %d`, `prefix_min_sends %d`, `country_min_sends %d`, `min_conversion %d`, `pause %s`, `grace %d` |",
		d(p.Window), p.PrefixDigits, p.PrefixMinSends, p.CountryMinSends, int(p.MinConversion*100+0.5), d(p.Pause), p.Grace)
	if !strings.Contains(readme, guard) {
		t.Errorf("README.md's pumping_guard row does not give the code's defaults: %s", guard)
	}
}

// SECURITY.md's table of what each limit defaults to gives every send
// limit the code has, each with the code's count and window.
func TestSECURITYLimitsAreTheCodes(t *testing.T) {
	t.Parallel()
	security := tableRows(readDoc(t, "SECURITY.md"))
	windows := map[string]time.Duration{"hour": time.Hour, "day": 24 * time.Hour}
	for _, name := range enrollment.LimitNames {
		// The pattern runs over the rows that name the limit: run over
		// all of SECURITY.md's rows, once a limit, the race detector's
		// work on the regexp's machine made this test ~1 s of CPU.
		rows := linesWhere(security, func(line string) bool { return strings.HasPrefix(line, "| `limit "+name+"` | ") })
		m := regexp.MustCompile("(?m)^\\| `limit " + name + "` \\| ([\\d,]+) (?:codes checked )?per (?:account per )?(hour|day)").FindStringSubmatch(rows)
		if m == nil {
			t.Errorf("SECURITY.md's table has no default for limit %s", name)
			continue
		}
		r := enrollment.DefaultLimits.Named(name)
		if count, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", "")); r == nil || count != r.Count || windows[m[2]] != r.Window {
			t.Errorf("SECURITY.md: limit %s defaults to %s per %s, the code to %+v", name, m[1], m[2], r)
		}
	}
}

// caddyDuration writes d as the README does: 12h, 5m, 30s, 1d.
func caddyDuration(d caddy.Duration) string {
	v := time.Duration(d)
	switch {
	case v%(24*time.Hour) == 0:
		return strconv.Itoa(int(v/(24*time.Hour))) + "d"
	case v%time.Hour == 0:
		return strconv.Itoa(int(v/time.Hour)) + "h"
	case v%time.Minute == 0:
		return strconv.Itoa(int(v/time.Minute)) + "m"
	}
	return strconv.Itoa(int(v/time.Second)) + "s"
}

// syntaxBlock is the option lines of the code block that opens with head.
func syntaxBlock(t *testing.T, text, head string) []string {
	t.Helper()
	i := strings.Index(text, head+"\n")
	if i < 0 {
		t.Fatalf("no block opening with %q", head)
	}
	var lines []string
	for _, line := range strings.Split(text[i+len(head)+1:], "\n") {
		line = strings.TrimSpace(line)
		if line == "}" {
			return lines
		}
		lines = append(lines, strings.Join(strings.Fields(line), " "))
	}
	t.Fatalf("the block opening with %q does not end", head)
	return nil
}

// gateGodoc is the option block of Gate.UnmarshalCaddyfile's doc comment,
// and parserOptions the options its switch has a case for.
func gateGodoc(t *testing.T) []string {
	t.Helper()
	doc := unmarshaler(t).Doc.Text()
	return syntaxBlock(t, strings.ReplaceAll(doc, "\t", ""), "smsgate [<matcher>] {")
}

func parserOptions(t *testing.T) []string {
	t.Helper()
	var opts []string
	ast.Inspect(unmarshaler(t).Body, func(n ast.Node) bool {
		sw, ok := n.(*ast.SwitchStmt)
		if !ok {
			return true
		}
		if id, ok := sw.Tag.(*ast.Ident); !ok || id.Name != "opt" {
			return true
		}
		for _, stmt := range sw.Body.List {
			for _, e := range stmt.(*ast.CaseClause).List {
				if lit, ok := e.(*ast.BasicLit); ok {
					v, _ := strconv.Unquote(lit.Value)
					if !slices.Contains(opts, v) {
						opts = append(opts, v)
					}
				}
			}
		}
		return true
	})
	if len(opts) < 40 {
		t.Fatalf("found %d options in the parser: %q", len(opts), opts)
	}
	return opts
}

// unmarshaler finds func (g *Gate) UnmarshalCaddyfile in this package.
func unmarshaler(t *testing.T) *ast.FuncDecl {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "UnmarshalCaddyfile" && fn.Recv != nil {
				if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok && star.X.(*ast.Ident).Name == "Gate" {
					return fn
				}
			}
		}
	}
	t.Fatal("no (*Gate).UnmarshalCaddyfile in this package")
	return nil
}

// readDoc reads a file of the repository by its path from the root.
func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harness.Root(t), path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tableRows is the rows of doc's tables ("| " lines), in order: a
// regexp of one row ((?m)^\| …) finds in them what it finds in the whole
// doc, without running at every position of the rest (a pattern that
// begins with ^ has no literal to skip ahead to: once per option over
// README.md, that was most of these tests' CPU under -race).
func tableRows(doc string) string {
	return linesWhere(doc, func(line string) bool { return strings.HasPrefix(line, "| ") })
}

// linesWhere is doc's lines for which keep is true, in order.
func linesWhere(doc string, keep func(string) bool) string {
	var b strings.Builder
	for line := range strings.Lines(doc) {
		if keep(line) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// Every option the README's Caddyfile examples give, in the gate's block
// and in its providers', stores' and lookup's blocks, is one their parsers
// know (an example that documents an option that does not exist fails).
func TestREADMEExamplesUseRealOptions(t *testing.T) {
	t.Parallel()
	fence := regexp.MustCompile("(?s)```caddyfile\n(.*?)```")
	checked := 0
	for _, block := range fence.FindAllStringSubmatch(readDoc(t, "README.md"), -1) {
		var stack [][]string // the headers of the blocks the line is in
		heredoc := ""        // the end of a heredoc the line is in
		for _, line := range strings.Split(block[1], "\n") {
			if heredoc != "" {
				if strings.TrimSpace(line) == heredoc {
					heredoc = ""
				}
				continue
			}
			if m := regexp.MustCompile(`<<(\w+)$`).FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				heredoc = m[1]
			}
			if i := strings.Index(line, "#"); i >= 0 && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
				line = line[:i]
			}
			f := strings.Fields(line)
			switch {
			case len(f) == 0 || f[0] == "…" || strings.HasPrefix(f[0], "@"):
				continue
			case f[0] == "}":
				stack = stack[:max(len(stack)-1, 0)]
				continue
			case len(stack) > 0 && f[len(f)-1] != "{" || len(stack) > 0 && f[0] == "lookup":
				probe := ""
				top := stack[len(stack)-1]
				switch {
				case top[0] == "smsgate":
					probe = "smsgate {\n" + f[0] + "\n}"
				case (top[0] == "provider" || top[0] == "store") && len(top) > 1:
					probe = "smsgate {\n" + top[0] + " " + top[1] + " {\n" + f[0] + "\n}\n}"
				case top[0] == "lookup" && len(stack) > 1 && strings.Join(stack[len(stack)-2][:2], " ") == "provider twilio":
					probe = "smsgate {\nprovider twilio {\nlookup {\n" + f[0] + "\n}\n}\n}"
				}
				if probe != "" {
					checked++
					err := new(Gate).UnmarshalCaddyfile(caddyfile.NewTestDispenser(probe))
					if err != nil && strings.Contains(err.Error(), "unrecognized") {
						t.Errorf("README.md's example gives %q in %q, which does not parse: %v", f[0], strings.Join(top, " "), err)
					}
				}
			}
			if f[len(f)-1] == "{" {
				stack = append(stack, f[:len(f)-1])
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d options checked: the README's examples were not read", checked)
	}
}

// The figures the README and SECURITY.md give for how the code behaves
// are the code's: how fast a logout and a wiped store are noticed, how
// long the revocation log keeps, what the disk keeps free, how big a form
// and how slow its body may be.
func TestDocumentedFiguresAreTheCodes(t *testing.T) {
	readme := strings.Join(strings.Fields(readDoc(t, "README.md")), " ")
	security := strings.Join(strings.Fields(readDoc(t, "SECURITY.md")), " ")
	architecture := strings.Join(strings.Fields(readDoc(t, "docs/ARCHITECTURE.md")), " ")
	seconds := func(d time.Duration) string { return strconv.Itoa(int(d/time.Second)) + " s" }
	for _, f := range []struct{ doc, text, want string }{
		{"README.md", readme, "kept " + strconv.Itoa(int(session.RevocationLogTTL/time.Minute)) + " minutes. Every instance reads the log at most once a " + map[time.Duration]string{time.Second: "second"}[session.RevocationPoll] + " (`RevocationPoll`)"},
		{"README.md", readme, "each checks the store's secret every " + seconds(storewatch.StoreWatch)},
		{"README.md", readme, "It notices within " + seconds(storewatch.StoreWatch) + " (each instance checks the epoch"},
		{"README.md", readme, strconv.Itoa(store.DiskReserve>>20) + " MiB free (`store.DiskReserve`)"},
		{"README.md", readme, "the gate waits at most " + seconds(pages.BodyTime) + " for a form's body"},
		{"SECURITY.md", security, "bodies capped at " + strconv.Itoa(pages.MaxBody>>10) + " KiB"},
		{"SECURITY.md", security, "the gate waits at most " + seconds(pages.BodyTime) + " for a POST's body"},
		{"README.md", readme, "A user may hold up to " + map[int]string{10: "ten"}[enrollment.MaxDevices] + " named"},
		{"docs/ARCHITECTURE.md", architecture, "windows idle past their end are forgotten every " + strconv.Itoa(int(store.GCEvery/time.Minute)) + " minutes"},
	} {
		if !strings.Contains(f.text, f.want) {
			t.Errorf("%s does not say %q", f.doc, f.want)
		}
	}
}
