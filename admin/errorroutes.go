package admin

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	pathpkg "path"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/intercept"
	maphandler "github.com/caddyserver/caddy/v2/modules/caddyhttp/map"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/rewrite"

	"github.com/smsgate/caddy-smsgate/siteblock"
)

// maxDepth is how deep follow goes into subroutes and named routes.
const maxDepth = 64

// maxSteps is how many routes follow takes for one refusal: a named
// route that invokes itself twice would branch 2^depth times.
const maxSteps = 100_000

// probeName stands for a name a wildcard or a catch-all takes.
const probeName = "smsgate-probe"

// CheckErrorRoutes refuses a running config (the provisioned http app,
// however it was written: a Caddyfile from a file, posted or on stdin,
// or JSON) whose error routes hand a gate's refusal to the app it
// protects: for each top-level route of a server that holds a gate (in
// subroutes, or a route it invokes), a request of its hosts and path that
// reaches it (no terminal route before it matches) is refused with each
// of siteblock.RefusedWith, and the error routes Caddy would run for it (the
// server's, and those of each subroute around the gate), their matchers
// evaluated by Caddy (a kind the probe cannot stand for, a header, as
// taking it: matches), are followed as Caddy runs them (rewrites applied,
// vars set, the first handler that answers or a terminal route ends a
// list): a reverse_proxy there to an upstream the gate's route proxies to
// (siteblock.Machine.SameApp), or a file_server serving the refused path from
// the gate's site's files (siteblock.HoldsTree), is refused, naming the
// server and the error route. Its walk of the routes is the load's one:
// it returns the names of the servers that hold a gate (in order), which
// warnLooseProxies reads.
func CheckErrorRoutes(app *caddyhttp.App) (gated []string, err error) {
	m := siteblock.ThisMachine()
	for _, name := range slices.Sorted(maps.Keys(app.Servers)) {
		srv := app.Servers[name]
		for i := range srv.Routes {
			gate, err := checkRoute(name, srv, i, m)
			if err != nil {
				return nil, err
			}
			if gate && !slices.Contains(gated, name) {
				gated = append(gated, name)
			}
		}
	}
	return gated, nil
}

// checkRoute checks the error routes Caddy would run for a gate in route i
// of server name (CheckErrorRoutes), and reports whether it holds one.
func checkRoute(name string, srv *caddyhttp.Server, i int, m *siteblock.Machine) (gate bool, err error) {
	route := srv.Routes[i]
	s := &site{srv: srv, m: m, app: map[string]bool{}, seen: map[string]bool{}, way: []caddyhttp.Route{route}}
	s.read(route.Handlers)
	if len(s.ways) == 0 { // no gate in it
		return false, nil
	}
	if s.files && len(s.trees) == 0 {
		s.trees = []string{"."} // Caddy's own folder
	}
	errs := s.errors
	if srv.Errors != nil {
		errs = append(errs, srv.Errors.Routes)
	}
	for _, host := range probeHosts(srv, route) {
		for _, path := range s.probePaths(host, errs) {
			if reachedBefore(srv.Routes[:i], host, path, srv) {
				continue
			}
			if status, err := s.refused(host, path, errs); err != nil {
				return true, fmt.Errorf("%s: %v (for the gate's %d in route %d, host %s, path %s)", name, err, status, i, host, path)
			}
		}
	}
	return true, nil
}

// refused follows each list of error routes errs for each status a gate
// refuses with (siteblock.RefusedWith) at host and path, and answers the
// first that serves what it must not, with its status.
func (s *site) refused(host, path string, errs []caddyhttp.RouteList) (status int, err error) {
	for _, status := range siteblock.RefusedWith {
		for _, list := range errs {
			r := probe(s.srv, host, path, status, s.root)
			s.steps = 0
			if _, err := s.follow(list, r, path, &place{part: "errors route", k: -1}, true); err != nil {
				return status, err
			}
		}
	}
	return 0, nil
}

// site is what a top-level route that holds a gate serves with.
type site struct {
	srv    *caddyhttp.Server
	m      *siteblock.Machine    // this machine's names, read once a check
	app    map[string]bool       // its upstreams (siteblock.Machine.DialKey)
	trees  []string              // where its files are
	root   string                // its root variable, which error routes see too
	files  bool                  // it serves files (file_server, php_fastcgi)
	errors []caddyhttp.RouteList // the error routes of the subroutes around a gate
	seen   map[string]bool       // named routes read
	way    []caddyhttp.Route     // the routes read passes through
	ways   [][]caddyhttp.Route   // the routes a request passes to reach each gate in it (their path matchers)
	pages  []string              // each gate's path_prefix (its own pages' paths)
	steps  int                   // routes follow took for one refusal
	depth  int                   // subroutes and named routes follow is inside now
}

// read notes what handlers (at any depth) serve with.
func (s *site) read(handlers []caddyhttp.MiddlewareHandler) {
	for _, h := range handlers {
		switch h := h.(type) {
		case *caddyhttp.Subroute:
			had := len(s.ways)
			for _, r := range h.Routes {
				s.way = append(s.way, r)
				s.read(r.Handlers)
				s.way = s.way[:len(s.way)-1]
			}
			if len(s.ways) > 0 && had == 0 && h.Errors != nil { // around the first gate in it
				s.errors = append(s.errors, h.Errors.Routes)
			}
		case *caddyhttp.Invoke:
			if r := s.srv.NamedRoutes[h.Name]; r != nil && !s.seen[h.Name] {
				s.seen[h.Name] = true
				s.way = append(s.way, *r)
				s.read(r.Handlers)
				s.way = s.way[:len(s.way)-1]
			}
		case *reverseproxy.Handler:
			for _, up := range upstreamsOf(h) {
				s.app[s.m.DialKey(up)] = true
			}
			t, ok := h.Transport.(caddy.Module)
			s.files = s.files || ok && t.CaddyModule().ID == "http.reverse_proxy.transport.fastcgi"
		case *caddyhttp.VarsMiddleware:
			if root, ok := (*h)["root"].(string); ok {
				s.trees, s.root = append(s.trees, root), root
			}
		case caddy.Module:
			if h.CaddyModule().ID == "http.handlers.smsgate" {
				s.ways, s.pages = append(s.ways, slices.Clone(s.way)), append(s.pages, prefixOf(h))
			} else if root, ok := fileRoot(h); ok {
				s.files = true
				if root != "" && !strings.Contains(root, "{http.vars.root}") {
					s.trees = append(s.trees, root)
				}
			}
		}
	}
}

// follow runs routes for the refused request r (path: the path refused)
// as Caddy would, without serving it: it reports whether a handler
// answered, or the error route (at: where it is) that hands the refusal
// to the app. A route the probe may or may not stand for (sure false:
// matches) is followed for the requests it takes, its rewrites and vars
// undone after it, and ends nothing.
func (s *site) follow(routes caddyhttp.RouteList, r *http.Request, path string, at *place, sure bool) (bool, error) {
	if s.depth++; s.depth > maxDepth {
		s.depth--
		return false, nil // a named route that invokes itself: Caddy's own loop
	}
	defer func() { s.depth-- }()
	if s.steps += len(routes); s.steps > maxSteps {
		return true, fmt.Errorf("%s: the error routes branch past %d routes for one refusal (named routes that invoke themselves more than once?), more than the check follows", at, maxSteps)
	}
	ran := map[string]bool{} // the groups a route surely ran in (handle blocks): one of each runs
	for k, route := range routes {
		ok, certain, err := matches(route, r, true)
		if err != nil {
			return sure, nil // the error ends the chain (try_files' =404): Caddy answers the status bare
		} else if !ok || route.Group != "" && ran[route.Group] {
			continue
		}
		u, vars := *r.URL, maps.Clone(varsOf(r))
		done, err := s.run(route.Handlers, r, path, &place{up: at, k: k}, sure && certain)
		if !certain { // its moves are for the requests it takes only
			*r.URL = u
			clear(varsOf(r))
			maps.Copy(varsOf(r), vars)
		}
		ran[route.Group] = ran[route.Group] || certain
		if done || err != nil || route.Terminal && certain {
			return done, err
		}
	}
	return false, nil
}

// run runs a route's handlers for follow.
func (s *site) run(handlers []caddyhttp.MiddlewareHandler, r *http.Request, path string, here *place, sure bool) (bool, error) {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	for _, h := range handlers {
		switch h := h.(type) {
		case *caddyhttp.Subroute:
			if done, err := s.follow(h.Routes, r, path, &place{up: here, part: ", subroute route", k: -1}, sure); done || err != nil {
				return done, err
			}
		case *caddyhttp.Invoke:
			if named := s.srv.NamedRoutes[h.Name]; named != nil {
				if done, err := s.follow(caddyhttp.RouteList{*named}, r, path, &place{up: here, part: ", named route " + h.Name + " route", k: -1}, sure); done || err != nil {
					return done, err
				}
			}
		case *rewrite.Rewrite:
			h.Rewrite(r, repl)
		case *caddyhttp.VarsMiddleware:
			maps.Copy(varsOf(r), *h)
		case *reverseproxy.Handler:
			for _, up := range upstreamsOf(h) {
				if s.m.SameApp(s.app, up) {
					return true, fmt.Errorf("%s proxies to %s, the app's upstream the gate's routes proxy to: every refused request would reach the app unauthenticated. Answer the gate's refusals there (respond), or match only statuses the gate never answers with", here, up)
				}
			}
			if err := s.responses(h.HandleResponse, r, path, here); err != nil {
				return true, err
			}
			return sure, nil
		case *intercept.Intercept: // its routes run for some answers of the handlers after it
			if err := s.responses(h.HandleResponse, r, path, here); err != nil {
				return true, err
			}
		case *maphandler.Handler: // its placeholders, which a rewrite after it may read
			_ = h.ServeHTTP(httptest.NewRecorder(), r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
		case *caddyhttp.StaticResponse:
			return sure, nil
		case caddy.Module:
			root, ok := fileRoot(h)
			if !ok {
				continue
			}
			root = cmp.Or(repl.ReplaceAll(cmp.Or(root, "{http.vars.root}"), ""), ".")
			if s.files && pathpkg.Clean("/"+r.URL.Path) == path && siteblock.HoldsTree(s.trees, root) { // as file_server cleans it: /.{path} is {path}
				return true, fmt.Errorf("%s serves the refused path with file_server from the files the gate protects (root %q): each would go out in the refusal's body. Serve an error page (rewrite to /{err.status_code}.html) or answer the gate's refusals there (respond)", here, root)
			}
			return sure, nil
		}
	}
	return false, nil
}

// responses follows the routes of handle_response blocks (a
// reverse_proxy's, an intercept's), for some answers only: none ends.
func (s *site) responses(blocks []caddyhttp.ResponseHandler, r *http.Request, path string, here *place) error {
	for k, hr := range blocks {
		if _, err := s.follow(hr.Routes, r, path, &place{up: here, part: fmt.Sprintf(", handle_response %d route", k), k: -1}, false); err != nil {
			return err
		}
	}
	return nil
}

// matches reports whether route takes r, and whether that is certain: a
// matcher the probe cannot stand for (a header, a client address, not)
// may take a refused request or not, so it counts as matching where
// maybe is set (an error route is checked), else as not (a route before
// the gate's takes no probe on a guess).
func matches(route caddyhttp.Route, r *http.Request, maybe bool) (ok, certain bool, err error) {
	if len(route.MatcherSets) == 0 {
		return true, true, nil
	}
	for _, set := range route.MatcherSets {
		setOK, setCertain := true, true
		for _, m := range set {
			switch m.(type) {
			case *caddyhttp.MatchHost, *caddyhttp.MatchPath, *caddyhttp.MatchExpression:
			default:
				if mod, ok := m.(caddy.Module); !ok || mod.CaddyModule().ID != "http.matchers.file" {
					setOK, setCertain = setOK && maybe, false
					continue
				}
			}
			match, err := m.(caddyhttp.RequestMatcherWithError).MatchWithError(r)
			if err != nil {
				return false, false, err
			}
			setOK = setOK && match
		}
		if setOK && setCertain {
			return true, true, nil
		}
		ok = ok || setOK
	}
	return ok, false, nil
}

// varsOf is r's variables (caddyhttp.VarsCtxKey).
func varsOf(r *http.Request) map[string]any {
	return r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
}

// upstreamsOf are the addresses a reverse_proxy dials, spelt as
// siteblock.Machine.DialKey takes them (a dynamic A or SRV source as
// siteblock.DynamicA and DynamicSRV spell them).
func upstreamsOf(h *reverseproxy.Handler) []string {
	var out []string
	for _, u := range h.Upstreams {
		out = append(out, u.Dial)
	}
	switch d := h.DynamicUpstreams.(type) {
	case *reverseproxy.AUpstreams:
		out = append(out, siteblock.DynamicA(d.Name, d.Port))
	case *reverseproxy.SRVUpstreams:
		out = append(out, siteblock.DynamicSRV(d.Service, d.Proto, d.Name))
	}
	return out
}

// fileRoot is the root of h if h is Caddy's file_server. Read by its
// module ID and its JSON, not its type: the fileserver package brings
// Caddy's templates and their syntax highlighter, whose start-up cost
// every race-built test process linking this package ~0.2 s of CPU.
func fileRoot(h caddy.Module) (root string, ok bool) {
	if h.CaddyModule().ID != "http.handlers.file_server" {
		return "", false
	}
	var fs struct {
		Root string `json:"root"`
	}
	if b, err := json.Marshal(h); err == nil {
		_ = json.Unmarshal(b, &fs)
	}
	return fs.Root, true
}
