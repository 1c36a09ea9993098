package siteblock

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// What paths a refusal of the gate has, and which of them an error
// route's directive takes: a directive under a path matcher that no
// refused path can match (handle_errors { @public path /public/* …
// reverse_proxy @public app } beside a gate in handle /admin/*) never
// sees a refusal of the gate. Paths are compared as Caddy's path matcher
// compares them (case-insensitive; a pattern's fixed beginning and end);
// anything else (placeholders, escapes, globs, other matchers, not, a
// rewrite on the way) counts as matching, as the start check's probes
// do (admin/probe.go).

// pathMovers change the path the matchers after them see.
var pathMovers = []string{"rewrite", "uri", "try_files", "handle_path"}

// movesPaths reports whether one of list, at any depth, changes the path.
func movesPaths(list []*directive) bool {
	return slices.ContainsFunc(list, func(d *directive) bool {
		return slices.Contains(pathMovers, d.name) || movesPaths(d.inner)
	})
}

// gatePaths are the path patterns a request the gate refuses matches, a
// list for each matcher on its way (the blocks it is in, its own
// matcher; each must match); none when something before it changes the
// path.
func (p *Placement) gatePaths(matcher caddy.ModuleMap) [][]string {
	if movesPaths(p.before) {
		return nil
	}
	var out [][]string
	sets := []caddy.ModuleMap{matcher}
	for _, d := range p.path {
		if set, ok := p.b.matcherOf(d); ok {
			sets = append(sets, set)
		}
	}
	for _, set := range sets {
		if _, ok := set["path"]; ok {
			out = append(out, pathsOf(set))
		}
	}
	if paths := p.b.addressPaths(); paths != nil {
		out = append(out, paths)
	}
	return out
}

// addressPaths are the paths of the site's addresses (example.com/admin/*:
// Caddy matches the site's routes, and its handle_errors, on them), none
// where an address has none (every path) or cannot be read.
func (b *Block) addressPaths() []string {
	var out []string
	for _, k := range b.keys {
		addr, err := httpcaddyfile.ParseAddress(k)
		if err != nil || addr.Path == "" {
			return nil
		}
		out = append(out, addr.Path)
	}
	return out
}

// pathDefs are the path patterns of the named matchers a handle_errors
// block defines (nil for one without a path matcher, or defined twice).
func pathDefs(seg []token) map[string][]string {
	defs := map[string][]string{}
	var walk func(stmts [][]token)
	walk = func(stmts [][]token) {
		for _, l := range stmts {
			name := l[0].text
			if !strings.HasPrefix(name, "@") {
				walk(inner(l))
				continue
			}
			var pats []string
			if a := args(l); len(a) > 0 && a[0] == "path" {
				pats = a[1:]
			}
			for _, m := range inner(l) {
				if m[0].text == "path" {
					pats = append(pats, args(m)...)
				}
			}
			if _, twice := defs[name]; twice {
				pats = nil
			}
			defs[name] = pats
		}
	}
	walk(inner(seg))
	return defs
}

// pathsOn are the path patterns d's matcher takes (a path, or a named
// matcher of defs, else of the gate's site where own), or none.
func (p *Placement) pathsOn(d *directive, defs map[string][]string, own bool) [][]string {
	if d.lost || len(d.args) == 0 {
		return nil
	}
	a := d.args[0]
	if strings.HasPrefix(a, "/") {
		return [][]string{{a}}
	}
	if pats, ok := defs[a]; ok {
		if pats == nil {
			return nil
		}
		return [][]string{pats}
	}
	if set, ok := p.b.matchers[a]; ok && own {
		if _, has := set["path"]; has {
			return [][]string{pathsOf(set)}
		}
	}
	return nil
}

// apartPaths reports whether no path matches every list of gate and of
// route: some list of one and some of the other match no path alike.
func apartPaths(gate, route [][]string) bool {
	return slices.ContainsFunc(gate, func(g []string) bool {
		return slices.ContainsFunc(route, func(r []string) bool {
			return !slices.ContainsFunc(g, func(x string) bool {
				return slices.ContainsFunc(r, func(y string) bool { return !patternsApart(x, y) })
			})
		})
	})
}

// patternsApart reports whether Caddy's path matcher matches no path by
// both patterns x and y: two exact paths that differ, an exact path the
// other does not match, or fixed beginnings (or ends) of which neither
// begins (ends) the other. False when in doubt.
func patternsApart(x, y string) bool {
	x, y = strings.ToLower(x), strings.ToLower(y)
	if strings.ContainsAny(x+y, "{%?[\\") || strings.Contains(x, "//") || strings.Contains(y, "//") {
		return false
	}
	switch xs, ys := strings.Contains(x, "*"), strings.Contains(y, "*"); {
	case !xs && !ys:
		return x != y
	case !xs:
		return pathTakes(caddyhttp.MatchPath{y}, x) == no
	case !ys:
		return pathTakes(caddyhttp.MatchPath{x}, y) == no
	}
	_, _, meet := WildcardsMeet(x, y)
	return !meet
}

// WildcardsMeet reports whether path patterns x and y, each with a * (in
// lower case), may match one path as their fixed beginnings and ends
// tell: one's beginning begins the other's, and one's end ends the
// other's. begin and end are then the longer of each (a path the start
// check probes: admin's meet). patternsApart and meet take it alike;
// they differ on purpose elsewhere: patternsApart answers "apart" only
// when sure, meet finds a path to probe (the probe judges).
func WildcardsMeet(x, y string) (begin, end string, ok bool) {
	xb, xe := x[:strings.Index(x, "*")], x[strings.LastIndex(x, "*")+1:]
	yb, ye := y[:strings.Index(y, "*")], y[strings.LastIndex(y, "*")+1:]
	if !strings.HasPrefix(xb, yb) && !strings.HasPrefix(yb, xb) || !strings.HasSuffix(xe, ye) && !strings.HasSuffix(ye, xe) {
		return "", "", false
	}
	longer := func(s, t string) string {
		if len(t) > len(s) {
			return t
		}
		return s
	}
	return longer(xb, yb), longer(xe, ye), true
}

// pathTakes judges Caddy's path matcher of patterns on a GET whose path,
// decoded, is p (r.URL.Path: as the gate compares its path_prefix, and as
// an exact pattern names a path); maybe where Caddy errs.
func pathTakes(patterns caddyhttp.MatchPath, p string) tri {
	if patterns.Provision(caddy.Context{}) != nil {
		return maybe
	}
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: p}}
	r = r.WithContext(context.WithValue(context.Background(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	switch ok, err := patterns.MatchWithError(r); {
	case err != nil:
		return maybe
	case ok:
		return yes
	}
	return no
}
