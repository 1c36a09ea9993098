package siteblock

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Where a gate sits in its site block: which directives run before it and
// after it on its way, and which matchers a request passes to reach it.
// Anything unexpected means "nothing known", so the checks that use this
// never refuse on a guess.

// directive is one directive of the site block; the routing ones (route,
// handle, handle_path) hold the directives of their block.
type directive struct {
	name string
	seg  []token
	// args are its arguments on its own line, its matcher first; lost
	// says Caddy deleted its matcher as it parsed it, and the file it came
	// from could not be read again: the matcher is not known.
	args  []string
	lost  bool
	inner []*directive
}

// first is the directive's name token (its file and line).
func (d *directive) first() token { return d.seg[0] }

// routing are the directives whose block holds directives.
var routing = []string{"route", "handle", "handle_path"}

// args are the texts of the tokens on seg's first line after its first,
// up to the brace that opens its block (as Caddy's RemainingArgs reads).
func args(seg []token) []string {
	var out []string
	for i := 1; i < len(seg) && sameLine(seg[i-1], seg[i]) && !seg[i].brace("{"); i++ {
		out = append(out, seg[i].text)
	}
	return out
}

// inner are the statements of seg's block ({ … } on its first line), each
// with its own block, or none.
func inner(seg []token) [][]token {
	open := len(args(seg)) + 1
	if open >= len(seg) || !seg[open].brace("{") || !sameLine(seg[open-1], seg[open]) {
		return nil
	}
	var out [][]token
	depth := 0
	for i := open + 1; i < len(seg); i++ {
		t := seg[i]
		switch {
		case t.brace("}") && depth == 0:
			return out
		case t.brace("}"):
			depth--
		case t.brace("{"):
			depth++
		}
		if depth == 0 && !t.brace("}") && (len(out) == 0 || !sameLine(seg[i-1], t)) {
			out = append(out, nil) // a statement begins on a line of its own
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], t)
		}
	}
	return out
}

// directivesOf reads segments into directives. Caddy deletes a directive's
// matcher token from the site block's tokens once it has parsed the
// directive (the rest shifts left, so the last token shows twice); such a
// directive's arguments are read again from its file, or marked lost.
func directivesOf(segs [][]token, files *sourceFiles) []*directive {
	var out []*directive
	for _, seg := range segs {
		if len(seg) == 0 {
			continue
		}
		d := &directive{name: seg[0].text, seg: seg, args: args(seg)}
		if n := len(seg); n > 2 && seg[n-1] == seg[n-2] {
			d.args, d.lost = files.args(seg)
		}
		if slices.Contains(routing, d.name) {
			d.inner = directivesOf(inner(seg), files)
		}
		out = append(out, d)
	}
	return out
}

// sourceFiles are Caddyfiles read again, by name, for the arguments Caddy
// deleted as it parsed (nil: the file could not be read, e.g. a config
// posted to the admin API). A name is not always a file's: Caddy names a
// posted Caddyfile "Caddyfile", which may be another file in its working
// directory (so that name is no file's when the adapter was given none),
// and a file may have changed since: it is used only where its tokens are
// the segment's.
type sourceFiles map[string][]caddyfile.Token

// args are the arguments of the directive seg (its matcher deleted, its
// last token twice) as its file has them, or lost: the file has not the
// directive there, its matcher then the segment's other tokens, at their
// lines (up to a token from elsewhere: an import).
func (f *sourceFiles) args(seg []token) ([]string, bool) {
	if *f == nil {
		*f = sourceFiles{}
	}
	tok := seg[0]
	toks, ok := (*f)[tok.file]
	if !ok {
		if raw, err := os.ReadFile(tok.file); err == nil {
			toks, _ = caddyfile.Tokenize(raw, tok.file)
		}
		(*f)[tok.file] = toks
	}
	i := slices.IndexFunc(toks, func(t caddyfile.Token) bool { return t.Line == tok.line && t.Text == tok.text })
	if i < 0 || i+1 >= len(toks) || toks[i+1].Line != tok.line || !sameTokens(seg[1:len(seg)-1], toks[i+2:], tok) {
		return nil, true
	}
	var args []string
	for _, a := range toks[i+1:] {
		if a.Line != tok.line || a.Text == "{" {
			break
		}
		args = append(args, a.Text)
	}
	return args, false
}

// sameTokens reports whether the file's tokens begin with seg's, by text
// and line, up to seg's first token not of first's file and chain (an
// environment variable's token matches what it became).
func sameTokens(seg []token, file []caddyfile.Token, first token) bool {
	for i, t := range seg {
		if t.file != first.file || t.chain != first.chain {
			return true
		}
		if i >= len(file) || file[i].Line != t.line || file[i].Text != t.text && !strings.Contains(file[i].Text, "{$") {
			return false
		}
	}
	return true
}

// placement is what runs around one gate.
type placement struct {
	// path are the routing blocks the gate is inside, outermost first.
	path []*directive
	// before and after run before the gate and after it, on its way.
	before, after []*directive
	// all are every directive of the site, at any depth.
	all []*directive
}

// place finds the gate whose directive token is at (file, line) in the
// site block, or reports false.
func (b *Block) place(file string, line int) (*placement, bool) {
	if b.segments == nil {
		return nil, false
	}
	files, _ := b.h.State["smsgate.files"].(*sourceFiles)
	if files == nil {
		files = new(sourceFiles)
		if name, _ := b.h.Option("filename").(string); name == "" {
			*files = sourceFiles{"Caddyfile": nil} // posted: the name Caddy gives it, no file of it
		}
		if b.h.State != nil {
			b.h.State["smsgate.files"] = files
		}
	}
	order := directiveOrder(b.h)
	p := &placement{}
	top := directivesOf(b.segments, files)
	var walk func(list []*directive)
	walk = func(list []*directive) {
		for _, d := range list {
			p.all = append(p.all, d)
			walk(d.inner)
		}
	}
	walk(top)
	var find func(block string, list []*directive) bool
	find = func(block string, list []*directive) bool {
		for i, d := range list {
			here := d.name == "smsgate" && d.first().file == file && d.first().line == line
			if !here && !find(d.name, d.inner) {
				continue
			}
			if !here {
				p.path = append([]*directive{d}, p.path...)
			}
			for j, s := range list {
				switch {
				case j == i || s.name == "handle" || s.name == "handle_path":
					// Handles are exclusive: another one never runs with this one.
				case runsBefore(block, order, list, j, i):
					p.before = append(p.before, s)
				default:
					p.after = append(p.after, s)
				}
			}
			return true
		}
		return false
	}
	if !find("", top) {
		return nil, false
	}
	return p, true
}

// runsBefore reports whether list[j] runs before list[i] in a block of
// kind block: a route keeps the written order, any other block sorts its
// directives by the directive order (the same directive: as written).
func runsBefore(block string, order []string, list []*directive, j, i int) bool {
	if block == "route" {
		return j < i
	}
	a, b := slices.Index(order, list[j].name), slices.Index(order, list[i].name)
	if a < 0 || b < 0 || a == b {
		return j < i
	}
	return a < b
}

// directiveOrder is the order directives run in outside a route: the
// Caddyfile's own (its `order` options), else Caddy's standard order with
// smsgate after forward_auth, as it registers itself.
func directiveOrder(h httpcaddyfile.Helper) []string {
	if order, ok := h.Option("order").([]string); ok {
		return order
	}
	return standardOrder
}

// standardOrder is Caddy v2's default directive order, with smsgate where
// it registers itself.
var standardOrder = []string{
	"tracing", "map", "vars", "fs", "root", "log_append", "skip_log", "log_skip", "log_name", "log_level",
	"header", "copy_response_headers", "request_body", "timeouts", "redir", "method", "rewrite", "uri", "try_files",
	"basicauth", "basic_auth", "forward_auth", "smsgate", "request_header", "encode", "push", "intercept", "templates",
	"invoke", "handle", "handle_path", "route",
	"abort", "error", "copy_response", "respond", "metrics", "reverse_proxy", "php_fastcgi", "file_server", "acme_server",
}

// matcherOf is the matcher set a routing directive's first argument names:
// a path (/api/*), a named matcher (@name), or none.
func (b *Block) matcherOf(d *directive) (caddy.ModuleMap, bool) {
	args := d.args
	if d.lost || len(args) == 0 || args[0] == "*" {
		return nil, false
	}
	if strings.HasPrefix(args[0], "/") {
		raw, _ := json.Marshal([]string{args[0]})
		return caddy.ModuleMap{"path": raw}, true
	}
	if strings.HasPrefix(args[0], "@") {
		set, ok := b.matchers[args[0]]
		return set, ok
	}
	return nil, false
}

// tri is what a matcher says of a path when only its path matchers can be
// judged: no, maybe, or yes.
type tri int

const (
	no tri = iota
	maybe
	yes
)

// matchesPath judges a matcher set (all of its matchers) on a GET of path
// (as pathTakes); matchers other than path and not are maybe.
func matchesPath(set caddy.ModuleMap, path string) tri {
	out := yes
	for name, raw := range set {
		var t tri
		switch name {
		case "path":
			var m caddyhttp.MatchPath
			if json.Unmarshal(raw, &m) != nil {
				return maybe
			}
			t = pathTakes(m, path)
		case "not":
			var sets []caddy.ModuleMap
			if json.Unmarshal(raw, &sets) != nil {
				return maybe
			}
			any := no
			for _, s := range sets {
				any = max(any, matchesPath(s, path))
			}
			t = yes - any
		default:
			t = maybe
		}
		out = min(out, t)
	}
	return out
}

// literal is a path pattern's fixed beginning (up to its first *).
func literal(pattern string) string {
	lit, _, _ := strings.Cut(pattern, "*")
	return lit
}

// pathsOf are the path patterns a matcher set routes (its path matchers).
func pathsOf(set caddy.ModuleMap) []string {
	var out []string
	if raw, ok := set["path"]; ok {
		_ = json.Unmarshal(raw, &out)
	}
	return out
}

// trustedProxies reports whether the Caddyfile lists trusted_proxies for
// any server (`servers { trusted_proxies … }`): the servers option is
// public, its type is not.
func trustedProxies(h httpcaddyfile.Helper) bool {
	v := reflect.ValueOf(h.Option("servers"))
	if v.Kind() != reflect.Slice {
		return false
	}
	for i := range v.Len() {
		f := reflect.Indirect(v.Index(i)).FieldByName("TrustedProxiesRaw")
		if f.IsValid() && f.Kind() == reflect.Slice && f.Len() > 0 {
			return true
		}
	}
	return false
}
