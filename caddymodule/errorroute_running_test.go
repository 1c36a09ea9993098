package caddymodule_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// postedGlobals keep a posted Caddyfile's admin endpoint and ports.
const postedGlobals = "{\n\tadmin localhost:{ADMIN_PORT}\n\thttp_port {HTTP_PORT}\n}\n"

// TestAPostedCaddyfilesOtherErrorRouteIsRefused: a Caddyfile posted to
// the admin API (or read from stdin) has no file to read the other site
// blocks from, so the adapt-time check (siteblock) saw the gate's block
// only: a catch-all's handle_errors proxying to the app loaded, and a
// refused request was served from it, 200 "the app's page for [admin]".
// Now the smsgate app checks the http app Caddy runs when it starts
// (admin.CheckErrorRoutes), naming the server and the error route.
func TestAPostedCaddyfilesOtherErrorRouteIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	for _, cfg := range []string{
		gateOf("localhost:{HTTP_PORT}", "") + "http:// {\n" + errorsTo("") + "}\n",
		gateOf("localhost:{HTTP_PORT}", "") + ":{HTTP_PORT} {\n" + errorsTo("4xx") + "}\n",
		gateOf("admin.localhost:{HTTP_PORT}", "") + "http://*.localhost:{HTTP_PORT} {\n" + errorsTo("401") + "}\n",
	} {
		sitetest.AssertLoadError(t, postedGlobals+cfg, "srv0: errors route ", " proxies to localhost:{HTTP_PORT}, the app's upstream the gate's routes proxy to",
			"(for the gate's 401 in route ")
	}
}

// jsonGate is a JSON config: a gate (inside a subroute) in front of an
// app (app.localhost, a route of the same server) at UPSTREAM, or a
// file_server of FILES, and the server's error routes ERRORS (and named
// routes: NAMED).
const jsonGate = `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"],
	"routes": [
		{"match": [{"host": ["app.localhost"]}], "handle": [{"handler": "static_response", "body": "the app's page for [{http.request.header.Remote-User}]"}], "terminal": true},
		{"match": [{"host": ["localhost"]}], "handle": [{"handler": "subroute", "routes": [{"handle": [
			{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "{DIR}"}, "providers": [{"provider": "log"}]},
			SERVE]}]}], "terminal": true}],
	"errors": {"routes": [ERRORS]}, "named_routes": {NAMED}}}}}}`

// TestAJSONConfigsErrorRouteToTheAppIsRefused: a JSON config's error
// routes were not checked at all: one proxying to the app's upstream (or
// serving the refused path from the site's files) loaded. Now it is
// refused when the smsgate app starts, naming the server and the error
// route; an error page (respond, or a rewrite to its own file) loads,
// and a refused request gets it.
func TestAJSONConfigsErrorRouteToTheAppIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	files := t.TempDir()
	for name, content := range map[string]string{"secret.txt": "the secret", "401.html": "an error page"} {
		if err := os.WriteFile(filepath.Join(files, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	json := func(serve, errors string) string {
		return strings.NewReplacer("SERVE", serve, "ERRORS", errors, "NAMED", "", "FILES", files, "{DIR}", filepath.Join(t.TempDir(), "store")).Replace(jsonGate)
	}
	const toApp = `{"handler": "reverse_proxy", "upstreams": [{"dial": "localhost:{HTTP_PORT}"}], "headers": {"request": {"set": {"Host": ["app.localhost"]}}}}`
	const fileServer = `{"handler": "file_server", "root": "FILES"}`
	for _, tc := range []struct{ serve, errors, want string }{
		{toApp, `{"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:{HTTP_PORT}"}]}]}`,
			"s: errors route 0 proxies to 127.0.0.1:{HTTP_PORT}, the app's upstream"},
		{toApp, `{"match": [{"expression": "{http.error.status_code} == 503"}], "handle": [{"handler": "static_response", "body": "busy"}]}, {"handle": [{"handler": "subroute", "routes": [{"handle": [` + toApp + `]}]}]}`,
			"s: errors route 1, subroute route 0 proxies to localhost:{HTTP_PORT}"},
		// Under a matcher the probe cannot stand for (for browsers only).
		{toApp, `{"match": [{"header": {"Accept": ["*html*"]}}], "handle": [` + toApp + `]}`,
			"s: errors route 0 proxies to localhost:{HTTP_PORT}"},
		{fileServer, `{"handle": [{"handler": "file_server", "root": "FILES"}]}`,
			"s: errors route 0 serves the refused path with file_server from the files the gate protects"},
		// The refused path after a dot, which file_server cleans away.
		{fileServer, `{"handle": [{"handler": "rewrite", "uri": "/.{http.request.uri.path}"}, {"handler": "file_server", "root": "FILES"}]}`,
			"s: errors route 0 serves the refused path with file_server"},
	} {
		sitetest.AssertJSONLoadError(t, json(tc.serve, tc.errors), tc.want)
	}
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	// A named route that invokes itself (Caddy's own loop, at a request)
	// is followed to maxDepth only, and loads (without the bound the
	// check would recurse without end: not run, for the machine's sake).
	loop := strings.Replace(json(toApp, `{"handle": [{"handler": "invoke", "name": "loop"}]}`), `"named_routes": {}`, `"named_routes": {"loop": {"handle": [{"handler": "invoke", "name": "loop"}]}}`, 1)
	if st, body := sitetest.Admin(t, http.MethodPost, "/load", c.WithPorts(loop)); st != http.StatusOK {
		t.Errorf("a named route's loop: refused: %d %s", st, body)
	}
	for name, tc := range map[string]struct{ serve, errors string }{
		"an error page": {toApp, `{"handle": [{"handler": "static_response", "status_code": "{http.error.status_code}", "body": "an error page"}]}`},
		// Caddy runs one route of a group (handle blocks): the first.
		"a group's other route": {toApp, `{"group": "g", "handle": [{"handler": "headers", "response": {"set": {"X-Error": ["1"]}}}]}, {"group": "g", "handle": [` + toApp + `]}`},
		// A terminal route ends its list, in a route for browsers only too.
		"after a terminal route":           {toApp, `{"match": [{"header": {"Accept": ["*html*"]}}], "handle": [{"handler": "subroute", "routes": [{"handle": [{"handler": "headers", "response": {"set": {"X-Error": ["1"]}}}], "terminal": true}, {"handle": [` + toApp + `]}]}]}`},
		"other statuses":                   {toApp, `{"match": [{"expression": "{http.error.status_code} == 502"}], "handle": [` + toApp + `]}`},
		"an error page file, for browsers": {fileServer, `{"match": [{"header": {"Accept": ["*html*"]}}], "handle": [{"handler": "rewrite", "uri": "/401.html"}, {"handler": "file_server", "root": "FILES"}]}, {"handle": [{"handler": "static_response", "status_code": "{http.error.status_code}"}]}`},
		"an error page file":               {fileServer, `{"handle": [{"handler": "rewrite", "uri": "/{http.error.status_code}.html"}, {"handler": "file_server", "root": "FILES"}]}`},
	} {
		if st, body := sitetest.Admin(t, http.MethodPost, "/load", c.WithPorts(json(tc.serve, tc.errors))); st != http.StatusOK {
			t.Errorf("%s: refused: %d %s", name, st, body)
			continue
		}
		if res := c.GetWith("/secret.txt", map[string]string{"Remote-User": "admin"}); res.StatusCode == http.StatusOK || strings.Contains(res.Text, "app's page") || strings.Contains(res.Text, "the secret") {
			t.Errorf("%s: a refused request was served: %d %s", name, res.StatusCode, res.Text)
		}
	}
}

// TestTheStartCheckLoadsWhatTheFileCheckLoads: the smsgate app's check of
// the running config (admin.CheckErrorRoutes) refuses none of the
// handle_errors that serve error pages which the adapt-time check of a
// Caddyfile file lets through (TestAnErrorRouteServingTheSiteIsRefused's):
// each loads, and a refused request for a protected file gets no file.
func TestTheStartCheckLoadsWhatTheFileCheckLoads(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	for name, content := range map[string]string{"secret.txt": "the secret", "401.html": "an error page"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	for _, errors := range []string{
		"\t\trewrite * /{err.status_code}.html\n\t\tfile_server\n",
		"\t\ttry_files /{err.status_code}.html =404\n\t\tfile_server\n",
		"\t\trewrite * /errors{path}\n\t\tfile_server\n",
		"\t\turi path_regexp .* /{err.status_code}.html\n\t\tfile_server\n",
		"\t\troot * " + filepath.Join(dir, "errors") + "\n\t\tfile_server\n",
		"\t\tfile_server {\n\t\t\troot " + filepath.Join(filepath.Dir(dir), "errors") + "\n\t\t}\n",
		// Under a matcher the probe cannot stand for (TestAnErrorRouteThatMayKeepTheRefusedPathIsRefused's).
		"\t\t@html header Accept *text/html*\n\t\trewrite @html /error.html\n\t\trewrite * /{err.status_code}.html\n\t\tfile_server\n",
		"\t\t@html header Accept *text/html*\n\t\thandle @html {\n\t\t\trewrite * /error.html\n\t\t\tfile_server\n\t\t}\n\t\thandle {\n\t\t\trespond \"unauthenticated\" 401\n\t\t}\n",
		"\t\troute {\n\t\t\trewrite * /error.html\n\t\t}\n\t\tfile_server\n",
	} {
		sitetest.Start(t, "http://localhost:{HTTP_PORT} {\n\troot * "+dir+"\n"+`	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	file_server
	handle_errors {
`+errors+"\t}\n}\n")
		if res := c.Get("/secret.txt"); res.StatusCode == http.StatusOK || strings.Contains(res.Text, "the secret") {
			t.Errorf("%q: a refused request was served: %d %s", errors, res.StatusCode, res.Text)
		}
	}
}
