package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheGatesOwnRefusalsAreNotServedByTheApp: on its own paths the gate
// refuses anything but a browser with Caddy's errors besides 401 (404 for
// no such page, 405, 400, 403, 500), and the check of handle_errors read
// 401 and 503 only, its refusal even suggesting `handle_errors 404`. So
// `handle_errors 404` to the app's own upstream loaded and served
// GET /.smsgate/nope from the app, unauthenticated, with the Remote-User
// the client wrote (before: 200 "the app's page for [admin]"); and as
// Caddy's matchers clean a path where reverse_proxy and file_server take
// it as sent, /.smsgate/%2e%2e/secret.txt (the gate's, a 404) was the
// protected /secret.txt to a `handle_errors 404 { file_server }`
// (TestAnErrorRouteForTheGatesOwnCodesServingTheSiteIsRefused) and to an
// app that cleans paths. Now every code the
// gate answers with counts (takesRefusals): such a config is refused at
// its line; one given only codes the gate never answers with loads, and
// its own paths' refusals do not reach the app.
func TestTheGatesOwnRefusalsAreNotServedByTheApp(t *testing.T) {
	sitetest.Parallel(t)
	site := func(codes string) string {
		return strings.NewReplacer("CODES", codes, "UPSTREAM", "localhost:{HTTP_PORT}", "HOST", "app.localhost").Replace(errorRouteSite)
	}
	for _, codes := range []string{"404", "404 500", "400", "403", "405", "500"} {
		sitetest.AssertLoadError(t, site(codes), "Caddyfile:13",
			"handle_errors hands the gate's refusals ("+strings.ReplaceAll(codes, " ", ", ")+" on its own paths) to localhost:{HTTP_PORT}, the app smsgate protects")
	}
	sitetest.Start(t, site("502 504"))
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	for _, path := range []string{"/.smsgate/nope", "/.smsgate/%2e%2e/private", "/.smsgate/assets/nope.js", "/private"} {
		if res := c.GetWith(path, map[string]string{"Remote-User": "admin"}); res.StatusCode == http.StatusOK || strings.Contains(res.Text, "app's page") {
			t.Errorf("%s: a refused request was served by the app: %d %s", path, res.StatusCode, res.Text)
		}
	}
}

// TestAnErrorRouteToADynamicUpstreamIsRefused: an app whose upstreams a
// module finds per request (reverse_proxy { dynamic a app 3000 }, as in
// Docker or Kubernetes) has no address on a line of its own, and the
// check of handle_errors read none: one proxying to the app the same way
// loaded and served every refused request from it, with the client's
// Remote-User (before: 200 "the app's page for [admin]"). Now a dynamic
// line counts as the app's address, however it is written (its block's
// name and port, a tuning block, a multi, the static address an A lookup
// finds); another one loads.
func TestAnErrorRouteToADynamicUpstreamIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	site := func(errors string) string {
		return `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	reverse_proxy {
		dynamic a localhost {HTTP_PORT}
		header_up Host app.localhost
	}
	handle_errors {
		reverse_proxy {
			dynamic ` + errors + `
			header_up Host app.localhost
		}
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`
	}
	sitetest.AssertLoadError(t, site("a localhost {HTTP_PORT}"), "Caddyfile:14",
		"handle_errors hands the gate's refusals (401) to dynamic a localhost {HTTP_PORT}, the app smsgate protects")
	sitetest.AssertLoadError(t, site("a LOCALHOST {HTTP_PORT}"), "Caddyfile:14", "the app smsgate protects")
	// The same lookup however it is written (rev7: each of these loaded
	// and served the refused request from the app): its block's name and
	// port, a tuning block, a multi holding it, a static address it finds.
	for _, same := range []string{"a {\n\t\t\t\tname localhost\n\t\t\t\tport {HTTP_PORT}\n\t\t\t}",
		"a localhost {HTTP_PORT} {\n\t\t\t\trefresh 5s\n\t\t\t}", "multi {\n\t\t\t\ta localhost {HTTP_PORT}\n\t\t\t}"} {
		sitetest.AssertLoadError(t, site(same), "Caddyfile:14", "to dynamic a localhost {HTTP_PORT}, the app smsgate protects")
	}
	sitetest.AssertLoadError(t, strings.Replace(site("a localhost {HTTP_PORT}"), "reverse_proxy {\n\t\tdynamic a localhost {HTTP_PORT}", "reverse_proxy {\n\t\tto localhost:{HTTP_PORT}", 1), "Caddyfile:14", "the app smsgate protects")
	sitetest.Start(t, site("a localhost 9")) // another upstream: an error-page service's
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	if res := c.GetWith("/private", map[string]string{"Remote-User": "admin"}); strings.Contains(res.Text, "app's page") {
		t.Errorf("a refused request was served by the app: %d %s", res.StatusCode, res.Text)
	}
}

// TestAnErrorRouteToOneOfTheAppsPortsIsRefused: Caddy takes a range of
// ports for upstreams (reverse_proxy localhost:3000-3002), and the check
// of handle_errors compared addresses whole, so one proxying to one of
// the app's ports (or the range, where the site names one) loaded and
// would have served refused requests from the app. Now ranges that meet
// on one host are the app; another port loads.
func TestAnErrorRouteToOneOfTheAppsPortsIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	site := func(app, errors string) string {
		return `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	reverse_proxy ` + app + `
	handle_errors {
		reverse_proxy ` + errors + `
	}
}`
	}
	sitetest.AssertLoadError(t, site("localhost:3000-3002", "127.0.0.1:3001"), "Caddyfile:11",
		"handle_errors hands the gate's refusals (401) to 127.0.0.1:3001, the app smsgate protects")
	sitetest.AssertLoadError(t, site("localhost:3001", "localhost:3000-3002"), "Caddyfile:11",
		"handle_errors hands the gate's refusals (401) to localhost:3000-3002, the app smsgate protects")
	sitetest.Start(t, site("localhost:3000-3002", "localhost:3003"))
}
