package caddymodule_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// pathGate is a JSON config: a gate in front of the app (app.localhost,
// a route of the same server) in a subroute route of localhost matched by
// MATCH, its inner route by INNER; the server's error routes ERRORS, its
// named routes NAMED.
const pathGate = `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"],
	"routes": [
		{"match": [{"host": ["app.localhost"]}], "handle": [{"handler": "static_response", "body": "the app's page for [{http.request.header.Remote-User}]"}], "terminal": true},
		{"match": [MATCH], "handle": [{"handler": "subroute", "routes": [INNER]}], "terminal": true}],
	"errors": {"routes": [ERRORS]}, "named_routes": {NAMED}}}}}}`

// gatedRoute is a subroute route for pathGate's INNER: a gate and the app,
// matched by match ("" for every request).
func gatedRoute(match string) string {
	if match != "" {
		match = `"match": [` + match + `], `
	}
	return `{` + match + `"handle": [
		{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "{DIR}"}, "providers": [{"provider": "log"}]},
		` + toTheAppJSON + `]}`
}

const toTheAppJSON = `{"handler": "reverse_proxy", "upstreams": [{"dial": "localhost:{HTTP_PORT}"}], "headers": {"request": {"set": {"Host": ["app.localhost"]}}}}`

// TestAnErrorRouteForTheGatesPathsIsRefused: the start check (admin.
// CheckErrorRoutes) refused a gate's request with one path: its top-level
// route's first path pattern, else /smsgate-probe. An error route
// proxying to the app for the gate's paths only then loaded when the gate
// sat in a subroute route matched by path (a Caddyfile's handle /admin/*)
// or its route's path was not the first pattern, and served refused
// requests from the app (200 "the app's page for [admin]"). Now each
// pattern on the way to each gate is a refused request's path; gates
// under other paths, and error routes to the app for paths no gate is on,
// load.
func TestAnErrorRouteForTheGatesPathsIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	json := func(match, inner, errors, named string) string {
		return strings.NewReplacer("MATCH", match, "INNER", inner, "ERRORS", errors, "NAMED", named).Replace(pathGate)
	}
	adminToApp := `{"match": [{"path": ["/admin/*"]}], "handle": [` + toTheAppJSON + `]}`
	for _, cfg := range []string{
		json(`{"host": ["localhost"], "path": ["/public", "/admin/*"]}`, gatedRoute(""), adminToApp, ""),
		json(`{"host": ["localhost"]}`, gatedRoute(`{"path": ["/admin/*"]}`), adminToApp, ""),
		json(`{"host": ["localhost"]}`, `{"handle": [{"handler": "invoke", "name": "gated"}]}`, adminToApp, `"gated": `+gatedRoute(`{"path": ["/admin/*"]}`)),
		json(`{"host": ["localhost"]}`, gatedRoute(`{"path": ["/ops/*"]}`)+", "+gatedRoute(`{"path": ["/admin/*"]}`), adminToApp, ""),
	} {
		sitetest.AssertJSONLoadError(t, cfg, "s: errors route 0 proxies to localhost:{HTTP_PORT}, the app's upstream", "host localhost, path /admin/smsgate-probe)")
	}
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	publicToApp := `{"match": [{"path": ["/public/*"]}], "handle": [` + toTheAppJSON + `]}`
	for name, cfg := range map[string]string{
		"another path":     json(`{"host": ["localhost"]}`, gatedRoute(`{"path": ["/admin/*"]}`)+`, {"handle": [`+toTheAppJSON+`]}`, publicToApp, ""),
		"two gates' paths": json(`{"host": ["localhost"]}`, gatedRoute(`{"path": ["/ops/*"]}`)+", "+gatedRoute(`{"path": ["/admin/*"]}`), publicToApp, ""),
		"a nested path":    json(`{"host": ["localhost"], "path": ["/admin/*"]}`, gatedRoute(`{"path": ["/admin/x/*", "/other/*"]}`), `{"match": [{"path": ["/other/*"]}], "handle": [`+toTheAppJSON+`]}`, ""),
	} {
		if st, body := sitetest.Admin(t, http.MethodPost, "/load", c.WithPorts(strings.ReplaceAll(cfg, "{DIR}", filepath.Join(t.TempDir(), "store")))); st != http.StatusOK {
			t.Errorf("%s: refused: %d %s", name, st, body)
			continue
		}
		if res := c.GetWith("/admin/x/y", map[string]string{"Remote-User": "admin"}); strings.Contains(res.Text, "app's page") {
			t.Errorf("%s: a refused request was served: %d %s", name, res.StatusCode, res.Text)
		}
	}
}

// TestAnErrorRouteThatBranchesWithoutEndIsRefusedQuickly: a named route
// that invokes itself twice (or more) branched the start check 2^64
// times (3 invokes: the load never ended, the admin API held). Now the
// check follows 100,000 routes for a refusal and refuses the config so,
// at once; a named route that invokes itself once still loads
// (TestAJSONConfigsErrorRouteToTheAppIsRefused).
func TestAnErrorRouteThatBranchesWithoutEndIsRefusedQuickly(t *testing.T) {
	sitetest.Parallel(t)
	const fan = `{"handler": "invoke", "name": "fan"}`
	cfg := strings.NewReplacer("MATCH", `{"host": ["localhost"]}`, "INNER", gatedRoute(""), "ERRORS", `{"handle": [`+fan+`]}`,
		"NAMED", `"fan": {"handle": [`+fan+`, `+fan+`, `+fan+`]}`).Replace(pathGate)
	start := time.Now()
	sitetest.AssertJSONLoadError(t, cfg, "the error routes branch past 100000 routes for one refusal", "s: errors route 0, named route fan route 0")
	// A hang guard, not a measure: before, the load never ended. The
	// refusal took 10.3 s at a load of 30 on two cores (race detector), so
	// the guard is six times that; its speed is for a benchmark to measure.
	if took := time.Since(start); took > time.Minute {
		t.Errorf("the refusal took %v", took)
	}
}

// TestAnErrorRoutesHandleResponseToTheAppIsRefused: an error route
// proxying to an error-page service (another port) whose handle_response
// routes proxy to the app (for some of the service's answers) loaded: the
// check stopped at the first reverse_proxy. Its handle_response routes
// are followed now.
func TestAnErrorRoutesHandleResponseToTheAppIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	errors := `{"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "localhost:1"}], "handle_response": [{"match": {"status_code": [404]}, "routes": [{"handle": [` + toTheAppJSON + `]}]}]}]}`
	cfg := strings.NewReplacer("MATCH", `{"host": ["localhost"]}`, "INNER", gatedRoute(""), "ERRORS", errors, "NAMED", "").Replace(pathGate)
	sitetest.AssertJSONLoadError(t, cfg, "s: errors route 0, handle_response 0 route 0 proxies to localhost:{HTTP_PORT}")
}

// TestHandWrittenJSONWithEmptyPartsLoads: an errors block without routes,
// a route without handlers, a subroute without routes, a server without
// routes: the start check reads them without fault, and the config loads.
func TestHandWrittenJSONWithEmptyPartsLoads(t *testing.T) {
	sitetest.Parallel(t)
	c := sitetest.NewClient(t, "")
	sitetest.AssertJSONLoadError(t, "{", "")
	for name, cfg := range map[string]string{
		"no error routes": strings.Replace(pathGate, `"errors": {"routes": [ERRORS]}`, `"errors": {}`, 1),
		"empty parts":     strings.Replace(pathGate, "ERRORS", `{}, {"handle": [{"handler": "subroute"}]}, {"handle": [{"handler": "subroute", "routes": [{}]}]}`, 1),
		"a bare server":   strings.Replace(pathGate, `"servers": {`, `"servers": {"bare": {"listen": [":{HTTPS_PORT}"], "errors": {"routes": [{}]}}, `, 1),
	} {
		cfg = strings.NewReplacer("MATCH", `{"host": ["localhost"]}`, "INNER", gatedRoute(`{"path": []}`)+", {}", "ERRORS", "", "NAMED", "").Replace(cfg)
		if st, body := sitetest.Admin(t, http.MethodPost, "/load", c.WithPorts(strings.ReplaceAll(cfg, "{DIR}", filepath.Join(t.TempDir(), "store")))); st != http.StatusOK {
			t.Errorf("%s: refused: %d %s", name, st, body)
		}
	}
}

// TestAnErrorRouteThroughMapOrInterceptIsRefused: a `map` in an error
// route that sets a placeholder a rewrite reads (to the refused path, as
// its default) was not run by the start check, so the rewrite's path was
// empty, counted as a move, and the config loaded, serving the protected
// file as the refusal's body; an `intercept` whose handle_response routes
// proxy to the app loaded too. map runs now, and intercept's routes are
// followed.
func TestAnErrorRouteThroughMapOrInterceptIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	files := t.TempDir()
	mapped := `{"handle": [{"handler": "map", "source": "{http.request.uri.path}", "destinations": ["{dest}"], "defaults": ["{http.request.uri.path}"]}, {"handler": "rewrite", "uri": "{dest}"}, {"handler": "file_server", "root": "FILES"}]}`
	served := `{"handle": [{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "{DIR}"}, "providers": [{"provider": "log"}]}, {"handler": "file_server", "root": "FILES"}]}`
	intercepted := `{"handle": [{"handler": "intercept", "handle_response": [{"routes": [{"handle": [` + toTheAppJSON + `]}]}]}, {"handler": "static_response", "status_code": 500}]}`
	for _, tc := range []struct{ inner, errors, want string }{
		{served, mapped, "s: errors route 0 serves the refused path with file_server from the files the gate protects"},
		{gatedRoute(""), intercepted, "s: errors route 0, handle_response 0 route 0 proxies to localhost:{HTTP_PORT}"},
	} {
		cfg := strings.NewReplacer("MATCH", `{"host": ["localhost"]}`, "INNER", tc.inner, "ERRORS", tc.errors, "NAMED", "").Replace(pathGate)
		sitetest.AssertJSONLoadError(t, strings.ReplaceAll(cfg, "FILES", files), tc.want)
	}
}

// TestSoundErrorRoutesLoadAtStart: error routes that answer the gate's
// refusals themselves, or hand the app only what the gate never refuses,
// load through both checks of a Caddyfile (the block's at adapt, the
// running config's at start): an error-page service on a port of its own,
// handle_errors 502 to the app, a redirect, respond. (A gate under a
// path beside an error route to the app for other paths loads at start:
// TestAnErrorRouteForTheGatesPathsIsRefused's "another path".)
func TestSoundErrorRoutesLoadAtStart(t *testing.T) {
	sitetest.Parallel(t)
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	for _, own := range []string{
		"\thandle_errors {\n\t\treverse_proxy localhost:1\n\t}\n",
		"\thandle_errors 502 {\n\t\treverse_proxy localhost:{HTTP_PORT}\n\t}\n",
		"\thandle_errors {\n\t\tredir https://login.example.com{uri}\n\t}\n",
		"\thandle_errors {\n\t\trespond \"{err.status_code} {err.status_text}\" {err.status_code}\n\t}\n",
	} {
		sitetest.Start(t, gateOf("localhost:{HTTP_PORT}", own))
		if res := c.GetWith("/x", map[string]string{"Remote-User": "admin"}); strings.Contains(res.Text, "app's page") {
			t.Errorf("%q: a refused request was served: %d %s", own, res.StatusCode, res.Text)
		}
	}
}

// TestAnErrorRouteForTheGatesDefaultPagesIsRefused: the start check
// probes the gate's own pages (its path_prefix), but read the prefix from
// the gate's config as written, "" where none is (the gate's default,
// /.smsgate/): so an error route to the app taking the gate's pages only
// by a matcher the probe evaluates (an expression) was refused where the
// config wrote path_prefix /.smsgate/ and loaded where it left it out,
// and served the gate's refusals there from the app (before: GET
// /.smsgate/nope, 200 "the app's page for [admin]"). The default is
// probed now.
func TestAnErrorRouteForTheGatesDefaultPagesIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	for _, expr := range []string{`path('/.smsgate/*')`, `{http.request.uri.path}.startsWith('/.smsgate/')`} {
		errors := `{"match": [{"expression": "` + expr + `"}], "handle": [` + toTheAppJSON + `]}`
		for _, inner := range []string{gatedRoute(""), strings.Replace(gatedRoute(""), `"identity": "none"`, `"identity": "none", "path_prefix": "/.smsgate/"`, 1)} {
			cfg := strings.NewReplacer("MATCH", `{"host": ["localhost"]}`, "INNER", inner, "ERRORS", errors, "NAMED", "").Replace(pathGate)
			sitetest.AssertJSONLoadError(t, cfg, "s: errors route 0 proxies to localhost:{HTTP_PORT}, the app's upstream", "path /.smsgate/smsgate-probe)")
		}
	}
}
