package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Where a gate sits in its Caddyfile site block: which directives run
// before it and after it on its way, and which matchers a request passes
// to reach it. Caddy's Helper hands a directive only its own tokens; the
// site block's are read (never written) from it by reflection, as in
// site.go, and anything unexpected means "nothing known", so the checks
// that use this never refuse on a guess.

// directive is one directive of the site block; the routing ones (route,
// handle, handle_path) hold the directives of their block.
type directive struct {
	name string
	seg  caddyfile.Segment
	// args are its arguments on its own line, its matcher first; lost
	// says Caddy deleted its matcher as it parsed it, and the file it came
	// from could not be read again: the matcher is not known.
	args  []string
	lost  bool
	inner []*directive
}

// first is the directive's name token (its file and line).
func (d *directive) first() caddyfile.Token { return d.seg[0] }

// routing are the directives whose block holds directives.
var routing = []string{"route", "handle", "handle_path"}

// directivesOf reads segments into directives. Caddy deletes a directive's
// matcher token from the site block's tokens once it has parsed the
// directive (Dispenser.Delete shifts the rest left, so the last token
// shows twice); such a directive's arguments are read again from its
// file, or marked lost.
func directivesOf(segs []caddyfile.Segment, files *sourceFiles) []*directive {
	var out []*directive
	for _, seg := range segs {
		if len(seg) == 0 {
			continue
		}
		d := &directive{name: seg.Directive(), seg: seg}
		disp := caddyfile.NewDispenser(seg)
		disp.Next()
		d.args = disp.RemainingArgs()
		if n := len(seg); n > 2 && sameToken(seg[n-1], seg[n-2]) {
			d.args, d.lost = files.args(d.first())
		}
		if slices.Contains(routing, d.name) {
			disp := caddyfile.NewDispenser(seg)
			disp.Next()
			disp.RemainingArgs()
			var inner []caddyfile.Segment
			for nesting := disp.Nesting(); disp.NextBlock(nesting); {
				inner = append(inner, disp.NextSegment())
			}
			d.inner = directivesOf(inner, files)
		}
		out = append(out, d)
	}
	return out
}

func sameToken(a, b caddyfile.Token) bool {
	return a.File == b.File && a.Line == b.Line && a.Text == b.Text
}

// sourceFiles are Caddyfiles read again, by name, for the arguments Caddy
// deleted as it parsed (nil: the file could not be read, e.g. a config
// posted to the admin API).
type sourceFiles map[string][]caddyfile.Token

// args are the arguments of the directive at tok as its file has them,
// or lost.
func (f *sourceFiles) args(tok caddyfile.Token) ([]string, bool) {
	if *f == nil {
		*f = sourceFiles{}
	}
	toks, ok := (*f)[tok.File]
	if !ok {
		if raw, err := os.ReadFile(tok.File); err == nil {
			toks, _ = caddyfile.Tokenize(raw, tok.File)
		}
		(*f)[tok.File] = toks
	}
	for i, t := range toks {
		if t.Line != tok.Line || t.Text != tok.Text {
			continue
		}
		var args []string
		for _, a := range toks[i+1:] {
			if a.Line != tok.Line || a.Text == "{" {
				break
			}
			args = append(args, a.Text)
		}
		return args, false
	}
	return nil, true
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

// placementOf finds the gate whose directive token is at tok in h's site
// block, or reports false.
func placementOf(h httpcaddyfile.Helper, tok caddyfile.Token) (*placement, bool) {
	if h.IsNamedRoute() {
		return nil, false
	}
	block, ok := helperField(&h, "parentBlock").(caddyfile.ServerBlock)
	if !ok {
		return nil, false
	}
	files, _ := h.State["smsgate.files"].(*sourceFiles)
	if files == nil {
		files = new(sourceFiles)
		if h.State != nil {
			h.State["smsgate.files"] = files
		}
	}
	order := directiveOrder(h)
	p := &placement{}
	top := directivesOf(block.Segments, files)
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
			here := d.name == "smsgate" && d.first().File == tok.File && d.first().Line == tok.Line
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
func matcherOf(h httpcaddyfile.Helper, d *directive) (caddy.ModuleMap, bool) {
	args := d.args
	if d.lost || len(args) == 0 || args[0] == "*" {
		return nil, false
	}
	if strings.HasPrefix(args[0], "/") {
		raw, _ := json.Marshal([]string{args[0]})
		return caddy.ModuleMap{"path": raw}, true
	}
	if strings.HasPrefix(args[0], "@") {
		return namedMatcher(h, args[0])
	}
	return nil, false
}

// namedMatcher is the definition of name (@app) in the scope of h.
func namedMatcher(h httpcaddyfile.Helper, name string) (caddy.ModuleMap, bool) {
	defs, _ := helperField(&h, "matcherDefs").(map[string]caddy.ModuleMap)
	set, ok := defs[name]
	return set, ok
}

// tri is what a matcher says of a path when only its path matchers can be
// judged: no, maybe, or yes.
type tri int

const (
	no tri = iota
	maybe
	yes
)

// matchesPath judges a matcher set (all of its matchers) on a GET of path;
// matchers other than path and not are maybe.
func matchesPath(set caddy.ModuleMap, path string) tri {
	out := yes
	for name, raw := range set {
		var t tri
		switch name {
		case "path":
			var m caddyhttp.MatchPath
			if json.Unmarshal(raw, &m) != nil || m.Provision(caddy.Context{}) != nil {
				return maybe
			}
			r, _ := http.NewRequest(http.MethodGet, path, nil)
			r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
			t = no
			if ok, err := m.MatchWithError(r); err != nil {
				t = maybe
			} else if ok {
				t = yes
			}
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
// any server (`servers { trusted_proxies … }`).
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
