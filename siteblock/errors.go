package siteblock

import (
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// CheckErrorRoutes refuses a handle_errors of the gate's site that hands
// the gate's refusals (401, and a replaced gate's 503: caddyhttp.Error,
// for the site's handle_errors to shape) to the app the gate protects: a
// reverse_proxy or php_fastcgi there to an upstream the site's own routes
// proxy to (however it is written: DialKey), an invoke of a named route
// the site's routes invoke, or a file_server serving the refused path (no
// rewrite, uri, root or try_files in the block that moves it for every
// request: moves; no root of its own, or one that is the site's or holds
// it: HoldsTree) where the site serves files
// (file_server, php_fastcgi). Caddy then serves the refused request,
// unauthenticated and with whatever identity header the client sent,
// from the app (a file's content in the 401's body). A site without
// handle_errors of its own gets another site block's, one whose addresses
// cover its host (othersErrors): that one is checked so. A handle_errors
// given only codes the gate never answers with (handle_errors 502), one that proxies
// elsewhere (an error-page service) or serves its own pages (rewrite *
// /{err.status_code}.html), is the operator's to choose; so is a
// directive under a path matcher no refused path matches (paths.go:
// @public path /public/* beside a gate in handle /admin/*, whose matcher
// is the gate's matcher's, its blocks', as the file has them; where Caddy
// deleted a block's and no file has it, a posted Caddyfile, such a
// directive is left to the start check, which reads it in the JSON).
func (p *Placement) CheckErrorRoutes(matcher caddy.ModuleMap) error {
	if p == nil {
		return nil
	}
	files, _ := p.b.h.State["smsgate.files"].(*sourceFiles)
	if files == nil {
		files = new(sourceFiles)
	}
	site := p.servedWith()
	var routes []errorRoute
	for _, d := range p.all {
		if d.name == "handle_errors" {
			routes = append(routes, errorRoute{d: d})
		}
	}
	if len(routes) == 0 {
		routes = p.othersErrors(files)
	}
	refused := p.gatePaths(matcher)
	// A block on the gate's way whose matcher Caddy deleted (a posted
	// Caddyfile: no file to read it again) leaves the gate's paths
	// unknown: a directive under a path matcher is then the start
	// check's to judge, from the JSON (admin.CheckErrorRoutes).
	unknown := !movesPaths(p.before) && slices.ContainsFunc(p.path, func(d *directive) bool { return d.lost })
	for _, r := range routes {
		d := r.d
		if !takesRefusals(d.args) {
			continue
		}
		c := &errorCheck{errorSite: site, site: r.site, gate: refused, defs: pathDefs(d.seg), toStart: unknown, who: "handle_errors", codes: refusalsIn(d.args)}
		list := directivesOf(inner(d.seg), files)
		if movesPaths(list) {
			c.gate, c.toStart = nil, false // its matchers may see another path than the one refused
		}
		if r.site != "" {
			c.who = fmt.Sprintf("handle_errors of site %s (%s:%d), which Caddy runs for the gate's site as that has no handle_errors of its own,", r.site, d.first().file, d.first().line)
			c.hint = "; or give the gate's site a handle_errors of its own (handle_errors 401 { respond 401 }), which Caddy runs in its place"
		}
		if err := c.check(list, false, nil); err != nil {
			return err
		}
	}
	return nil
}

// toApp ends a refusal of a handle_errors that hands the gate's refusals
// to the app.
const toApp = " Answer the gate's refusals there itself (respond), or give handle_errors only codes the gate never answers with (it answers 401 and 503 anywhere, 400, 403, 404, 405 and 500 on its own paths)"

// moving are the directives that change which file a file_server serves.
var moving = []string{"rewrite", "uri", "root", "try_files"}

// samePath are the placeholders of the request's own path (the refused
// one, in handle_errors): a rewrite or try_files to a path that begins
// with one serves a file of the site's tree at the path refused, or
// below it (try_files {path} {path}/index.html, rewrite * {path}).
var samePath = []string{"{path}", "{uri}", "{dir}{file}", "{http.request.uri}", "{http.request.uri.path}",
	"{http.request.uri.path.dir}{http.request.uri.path.file}", "{http.request.orig_uri}", "{http.request.orig_uri.path}"}

// moves reports whether d (in a handle_errors block) changes which file a
// file_server there serves, for every request: a rewrite, uri, root or
// try_files, unless a matcher picks the requests it changes (rewrite @html
// /error.html: curl gets the refused path), a rewrite's target or one of
// try_files' files begins at the refused path (samePath; after
// nothing but slashes and dots: /{path} is the path), a rewrite
// changes only the query (rewrite * ?{query}), uri changes but some
// paths, or only the query, or try_files may find none of its files (it rewrites only to one
// that exists: a site without 401.html served the refused path) and has
// no last "=404" to end there, or a root is the site's own or holds it
// (HoldsTree: root * /srv/site where the site's is /srv/site). One whose
// arguments Caddy lost is taken to move (nothing is refused on a guess).
func moves(d *directive, trees []string) bool {
	if !slices.Contains(moving, d.name) || d.lost || len(d.args) == 0 {
		return slices.Contains(moving, d.name)
	}
	atPath := func(a string) bool {
		return slices.ContainsFunc(samePath, func(p string) bool {
			i := strings.Index(a, p) // what comes before it, cleaned as file_server cleans a path, adds nothing: "/{path}", "/.{path}"
			return i >= 0 && path.Clean("/"+a[:i]+"/\x00") == "/\x00"
		})
	}
	if a := d.args[0]; strings.HasPrefix(a, "@") || len(d.args) > 1 && d.name != "try_files" && strings.HasPrefix(a, "/") {
		return false // under a matcher: not every request
	}
	switch d.name {
	case "rewrite":
		to := d.args[len(d.args)-1]
		return !atPath(to) && !strings.HasPrefix(to, "?")
	case "try_files":
		last := d.args[len(d.args)-1]
		return !slices.ContainsFunc(d.args, atPath) && strings.HasPrefix(last, "=") && !slices.ContainsFunc(inner(d.seg), func(l []token) bool {
			return l[0].text == "policy" && (len(l) < 2 || l[1].text != "first_exist") // "=" works under first_exist only
		})
	case "root":
		return !HoldsTree(trees, d.args[len(d.args)-1])
	case "uri":
		// strip_prefix, strip_suffix, replace and most path_regexps change
		// only the paths they match: /secret.txt went on as asked. One that
		// matches every path whole, to a path of its own, moves them all.
		a := slices.DeleteFunc(slices.Clone(d.args), func(a string) bool { return a == "*" })
		return len(a) == 3 && a[0] == "path_regexp" && wholePath(a[1]) && !strings.Contains(a[2], "$") &&
			!slices.ContainsFunc(samePath, func(p string) bool { return strings.Contains(a[2], p) })
	}
	return true
}

// wholePath reports whether the regular expression pattern matches every
// path whole (^.*$, .*, ^/.*).
func wholePath(pattern string) bool {
	re, err := regexp.Compile(pattern)
	return err == nil && !slices.ContainsFunc([]string{"/", "/secret.txt", "/.smsgate/%2e%2e/a/b.txt"}, func(p string) bool {
		loc := re.FindStringIndex(p)
		return loc == nil || loc[0] != 0 || loc[1] != len(p)
	})
}

// movesAll reports whether d moves what a file_server serves for every
// request that reaches it: moves, or a route or handle without a matcher
// that holds such a move.
func movesAll(d *directive, trees []string) bool {
	if slices.Contains(routing, d.name) {
		return !d.lost && (len(d.args) == 0 || d.args[0] == "*") && slices.ContainsFunc(d.inner, func(in *directive) bool { return movesAll(in, trees) })
	}
	return moves(d, trees)
}

// rootsOf are the folders d says the site's files are in: a root line's,
// or a file_server's or php_fastcgi's root.
func rootsOf(d *directive) []string {
	var out []string
	if d.name == "root" && !d.lost && len(d.args) > 0 {
		out = append(out, d.args[len(d.args)-1])
	}
	if d.name == "file_server" || d.name == "php_fastcgi" {
		for _, l := range inner(d.seg) {
			if l[0].text == "root" && len(l) > 1 {
				out = append(out, l[1].text)
			}
		}
	}
	return out
}

// HoldsTree reports whether a file_server at root serves the site's files
// at the path refused: root is one of trees, or a folder holding one (a
// refused /site/secret.txt under /srv is /srv/site/secret.txt), as they
// resolve here ({env.*}); one a request fills in is another tree.
func HoldsTree(trees []string, root string) bool {
	abs := func(p string) (string, bool) {
		p = caddy.NewReplacer().ReplaceKnown(p, "")
		a, err := filepath.Abs(p)
		return a, err == nil && !strings.Contains(p, "{")
	}
	r, ok := abs(root)
	for _, t := range trees {
		if s, known := abs(t); ok && known && strings.HasPrefix(s+"/", strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}

// invoked is the named route d invokes, or "".
func invoked(d *directive) string {
	if d.name != "invoke" || len(d.args) == 0 {
		return ""
	}
	return d.args[len(d.args)-1]
}

// namedUpstreams are the addresses the named route name proxies to, at any
// depth, as Caddy adapted it (its named_routes option: the route is
// outside the site block): its dials, and the upstreams a dynamic module
// finds (dynamicOf); or none.
func (p *Placement) namedUpstreams(name string) []string {
	routes, _ := p.b.h.Option("named_routes").(map[string]*caddyhttp.Route)
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if dyn, ok := v["dynamic_upstreams"].(map[string]any); ok && v["handler"] == "reverse_proxy" {
				out = append(out, dynamicOf(dyn)...) // found per request: as a dynamic line spells them
			}
			if ups, ok := v["upstreams"].([]any); ok && v["handler"] == "reverse_proxy" {
				for _, u := range ups {
					if dial, ok := u.(map[string]any)["dial"].(string); ok {
						out = append(out, dial)
					}
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	if r := routes[name]; r != nil {
		for _, raw := range r.HandlersRaw {
			var v any
			if json.Unmarshal(raw, &v) == nil {
				walk(v)
			}
		}
	}
	return out
}

// RefusedWith are the statuses the gate answers with as Caddy's errors:
// 401, and a 503 (a request a reload caught before the gate reaches the
// replaced gate, which answers it so: handOff; the app served it, with the
// first factor's identity, as admitted), on any path; on its own paths
// (path_prefix, for anything but a browser) 400, 403, 404, 405 and 500 too.
// Caddy's path matchers clean the path and reverse_proxy and file_server
// take it as sent, so a request for /.smsgate/%2e%2e/private that the gate
// refuses with a 404 is /private to the app behind handle_errors 404.
// Both checks of the error routes read it: this one, of a site block,
// and the start's, of the running config (admin.CheckErrorRoutes).
var RefusedWith = []int{401, 503, 400, 403, 404, 405, 500}

// refusedWith are RefusedWith as handle_errors spells them, and their classes.
var refusedWith = func() []string {
	out := []string{"4xx", "5xx"}
	for _, code := range RefusedWith {
		out = append(out, strconv.Itoa(code))
	}
	return out
}()

// takesRefusals reports whether handle_errors with args (status codes;
// none: every error) handles one of the gate's refusals (refusedWith).
func takesRefusals(args []string) bool {
	return len(args) == 0 || slices.ContainsFunc(args, func(a string) bool { return slices.Contains(refusedWith, a) })
}

// refusalsIn names the gate's refusals handle_errors with args takes: 401
// where it takes those on any path, else the codes of its own paths'.
func refusalsIn(args []string) string {
	if len(args) == 0 || slices.ContainsFunc(args, func(a string) bool { return slices.Contains([]string{"401", "503", "4xx", "5xx"}, a) }) {
		return "401"
	}
	var own []string
	for _, a := range args {
		if slices.Contains(refusedWith, a) {
			own = append(own, a)
		}
	}
	return strings.Join(own, ", ") + " on its own paths"
}

// upstreams are the addresses a reverse_proxy or php_fastcgi proxies to
// (its arguments, a matcher left out, and its block's to lines; a dynamic
// line, the upstreams a module finds per request, as dynamicUpstreams
// spells them), none for another directive.
func upstreams(d *directive) []string {
	if d.name != "reverse_proxy" && d.name != "php_fastcgi" {
		return nil
	}
	to := slices.Clone(d.args)
	if len(to) > 0 && (strings.HasPrefix(to[0], "@") || strings.HasPrefix(to[0], "/") || to[0] == "*") {
		to = to[1:]
	}
	for _, line := range inner(d.seg) {
		switch line[0].text {
		case "to":
			to = append(to, args(line)...)
		case "dynamic":
			if len(line) > 1 {
				to = append(to, dynamicUpstreams(line[1:])...)
			}
		}
	}
	return to
}
