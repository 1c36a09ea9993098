package admin

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/smsgate/caddy-smsgate/siteblock"
)

// probeHosts are the hosts a refused request of the gate's route may
// name: its host matchers' (a wildcard's label as probeName), or, for a
// route of every host, those the server's error routes name and one
// they do not.
func probeHosts(srv *caddyhttp.Server, route caddyhttp.Route) []string {
	if hosts := hostsOf(route); len(hosts) > 0 {
		return hosts
	}
	var hosts []string
	if srv.Errors != nil {
		for _, r := range srv.Errors.Routes {
			hosts = append(hosts, hostsOf(r)...)
		}
	}
	return append(hosts, probeName+".invalid")
}

// hostsOf are the hosts a route's matchers name, a wildcard as probeName.
func hostsOf(route caddyhttp.Route) []string {
	var out []string
	for _, h := range matchersOf[*caddyhttp.MatchHost](route) {
		for _, host := range *h {
			out = append(out, strings.ReplaceAll(host, "*", probeName))
		}
	}
	return out
}

// matchersOf are a route's matchers of kind T, of every matcher set.
func matchersOf[T caddyhttp.RequestMatcherWithError](route caddyhttp.Route) []T {
	var out []T
	for _, set := range route.MatcherSets {
		for _, m := range set {
			if t, ok := m.(T); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// patternsOf are the path patterns of routes' path matchers.
func patternsOf(routes ...caddyhttp.Route) []string {
	var out []string
	for _, route := range routes {
		for _, p := range matchersOf[*caddyhttp.MatchPath](route) {
			out = append(out, *p...)
		}
	}
	return out
}

// probePaths are the paths a refused request for host may have: each
// pattern of the path matchers on the way to the gate (a wildcard as
// probeName), the gate's own pages (its path_prefix), and each pattern of
// the error routes' path matchers met with each of the way's (meet: the
// gate on /admin/*, an error route on *.php: /admin/probeName.php), that
// every route on the way with a path matcher takes (a gate in handle
// /admin/* of a site: /admin/probeName), else /probeName.
func (s *site) probePaths(host string, errs []caddyhttp.RouteList) []string {
	var theirs []string
	seen := map[string]bool{}
	for _, list := range errs {
		theirs = append(theirs, s.patternsIn(list, seen)...)
	}
	var out []string
	for i, way := range s.ways {
		before := len(out)
		for _, pattern := range append(patternsOf(way...), "/*", s.pages[i]+"*") {
			paths := []string{strings.ReplaceAll(pattern, "*", probeName)}
			for _, other := range theirs {
				if path, ok := meet(pattern, other); ok {
					paths = append(paths, path)
				}
			}
			for _, path := range paths {
				if strings.HasPrefix(path, "/") && !slices.Contains(out, path) && s.takenOnThe(way, host, path) {
					out = append(out, path)
				}
			}
		}
		if len(out) == before && !slices.Contains(out, "/"+probeName) {
			out = append(out, "/"+probeName)
		}
	}
	return out
}

// meet is a path both path patterns a and b match (a wildcard as
// probeName), as Caddy's path matcher matches (case-insensitive; a
// pattern's fixed beginning and end), or false where none is found.
func meet(a, b string) (string, bool) {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if !strings.Contains(b, "*") {
		a, b = b, a
	}
	switch {
	case a == "" || b == "" || strings.Contains(a+b, "{"):
		return "", false
	case !strings.Contains(b, "*"): // two exact paths
		return a, a == b
	case !strings.Contains(a, "*"):
		return a, true // takenOnThe, and the error route's own matcher, judge it
	}
	begin, end, ok := siteblock.WildcardsMeet(a, b)
	if !ok {
		return "", false
	}
	if begin == "" {
		begin = "/"
	}
	return begin + probeName + end, true
}

// patternsIn are the path patterns of routes' path matchers, at any
// depth (subroutes, named routes they invoke: seen).
func (s *site) patternsIn(routes caddyhttp.RouteList, seen map[string]bool) []string {
	var out []string
	for _, route := range routes {
		out = append(out, patternsOf(route)...)
		for _, h := range route.Handlers {
			switch h := h.(type) {
			case *caddyhttp.Subroute:
				out = append(out, s.patternsIn(h.Routes, seen)...)
			case *caddyhttp.Invoke:
				if r := s.srv.NamedRoutes[h.Name]; r != nil && !seen[h.Name] {
					seen[h.Name] = true
					out = append(out, s.patternsIn(caddyhttp.RouteList{*r}, seen)...)
				}
			}
		}
	}
	return out
}

// prefixOf is a gate's path_prefix (where its own pages are): its
// config's, which the running gate keeps as written, else the default.
func prefixOf(gate any) string {
	var cfg struct {
		PathPrefix string `json:"path_prefix"`
	}
	if raw, err := json.Marshal(gate); err == nil {
		_ = json.Unmarshal(raw, &cfg)
	}
	return cmp.Or(cfg.PathPrefix, defaultPrefix)
}

// takenOnThe reports whether each route on the way to a gate that
// matches on path takes a request for host and path.
func (s *site) takenOnThe(way []caddyhttp.Route, host, path string) bool {
	r := probe(s.srv, host, path, 0, "")
	for _, route := range way {
		paths := matchersOf[*caddyhttp.MatchPath](route)
		if len(paths) > 0 && !slices.ContainsFunc(paths, func(p *caddyhttp.MatchPath) bool {
			match, err := p.MatchWithError(r)
			return match && err == nil
		}) {
			return false
		}
	}
	return true
}

// reachedBefore reports whether a terminal route of before takes a
// request for host and path (it never reaches the routes after).
func reachedBefore(before caddyhttp.RouteList, host, path string, srv *caddyhttp.Server) bool {
	r := probe(srv, host, path, 0, "")
	return slices.ContainsFunc(before, func(route caddyhttp.Route) bool {
		ok, _, err := matches(route, r, false)
		return route.Terminal && ok && err == nil
	})
}

// probe is a request for host and path, prepared as Caddy prepares one,
// refused with status (its error placeholders), the site's root variable
// set. A space or control byte in path (a path matcher's "/my docs/*")
// is escaped, which a request line cannot hold, and a % stays as written
// (an escape a path matcher compares with the request's escaped path);
// host is set after, as a host matcher may be a placeholder, no URL's.
func probe(srv *caddyhttp.Server, host, path string, status int, root string) *http.Request {
	var target strings.Builder
	for _, c := range []byte(path) {
		if c <= ' ' || c == 0x7f {
			fmt.Fprintf(&target, "%%%02X", c)
		} else {
			target.WriteByte(c)
		}
	}
	r := httptest.NewRequest(http.MethodGet, target.String(), nil)
	r.Host, r.URL.Scheme, r.URL.Host, r.RequestURI = host, "http", host, "http://"+host+target.String()
	repl := caddy.NewReplacer()
	r = caddyhttp.PrepareRequest(r, repl, httptest.NewRecorder(), srv)
	if status != 0 {
		repl.Set("http.error.status_code", status)
		repl.Set("http.error.status_text", http.StatusText(status))
	}
	if root != "" {
		caddyhttp.SetVar(r.Context(), "root", root)
	}
	return r
}
