package admin

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// probeHosts are the hosts a refused request of the gate's route may
// name: its host matchers' (a wildcard's label as probeName), or, for a
// route of every host, those the server's error routes name and one
// they do not.
func probeHosts(srv *caddyhttp.Server, route caddyhttp.Route) []string {
	hosts := hostsOf(route)
	if len(hosts) == 0 && srv.Errors != nil {
		for _, r := range srv.Errors.Routes {
			hosts = append(hosts, hostsOf(r)...)
		}
	}
	if len(hostsOf(route)) == 0 {
		hosts = append(hosts, probeName+".invalid")
	}
	return hosts
}

// hostsOf are the hosts a route's matchers name, a wildcard as probeName.
func hostsOf(route caddyhttp.Route) []string {
	var out []string
	for _, set := range route.MatcherSets {
		for _, m := range set {
			if h, ok := m.(*caddyhttp.MatchHost); ok {
				for _, host := range *h {
					out = append(out, strings.ReplaceAll(host, "*", probeName))
				}
			}
		}
	}
	return out
}

// probePaths are the paths a refused request for host may have: each
// pattern of the path matchers on the way to the gate (a wildcard as
// probeName) that every route on the way with a path matcher takes
// (a gate in handle /admin/* of a site: /admin/probeName), else
// /probeName.
func (s *site) probePaths(host string) []string {
	var out []string
	for _, way := range s.ways {
		before := len(out)
		for _, route := range way {
			for _, set := range route.MatcherSets {
				for _, m := range set {
					if p, ok := m.(*caddyhttp.MatchPath); ok {
						for _, pattern := range *p {
							path := strings.ReplaceAll(pattern, "*", probeName)
							if strings.HasPrefix(path, "/") && !slices.Contains(out, path) && s.takenOnThe(way, host, path) {
								out = append(out, path)
							}
						}
					}
				}
			}
		}
		if len(out) == before && !slices.Contains(out, "/"+probeName) {
			out = append(out, "/"+probeName)
		}
	}
	return out
}

// takenOnThe reports whether each route on the way to a gate that
// matches on path takes a request for host and path.
func (s *site) takenOnThe(way []caddyhttp.Route, host, path string) bool {
	r := probe(s.srv, host, path, 0, "")
	for _, route := range way {
		takes, onPath := false, false
		for _, set := range route.MatcherSets {
			for _, m := range set {
				if p, ok := m.(*caddyhttp.MatchPath); ok {
					match, err := p.MatchWithError(r)
					takes, onPath = takes || match && err == nil, true
				}
			}
		}
		if onPath && !takes {
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
// set.
func probe(srv *caddyhttp.Server, host, path string, status int, root string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
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
