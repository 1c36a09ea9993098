package caddymodule_test

import (
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnErrorRouteInvokingTheSitesRouteIsRefused: a handle_errors that
// invokes the named route the site serves its requests with (invoke app
// in both) hands the gate's refusals to the app. It loaded at 60ccfa8
// (this test fails there: the check read reverse_proxy lines only, and a
// named route is outside the site block), and through a real Caddy a
// refused request with `Remote-User: admin` was answered 200 "the app's
// page for [admin]". Now refused at the handle_errors' invoke line.
func TestAnErrorRouteInvokingTheSitesRouteIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.AssertLoadError(t, `&(app) {
	reverse_proxy localhost:{HTTP_PORT} {
		header_up Host app.localhost
	}
}
http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	invoke app
	handle_errors {
		invoke app
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`, "Caddyfile:16", "handle_errors hands the gate's refusals (401) to the route app")
}

// TestAnErrorRouteInvokingARouteToTheAppIsRefused: the app named through
// a named route on one side only: the site proxies to it directly and
// handle_errors invokes a route that proxies to it, or the site invokes
// that route and handle_errors proxies to the app itself. Both loaded at
// 60ccfa8 (and after the invoke-by-name check: this test fails there) and
// served refused requests from the app. The named route's upstreams are
// read as Caddy adapted it (the named_routes option).
func TestAnErrorRouteInvokingARouteToTheAppIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	site := func(serve, errs string) string {
		return `&(app) {
	reverse_proxy localhost:{HTTP_PORT} {
		header_up Host app.localhost
	}
}
http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	` + serve + `
	handle_errors {
		` + errs + `
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`
	}
	sitetest.AssertLoadError(t, site("reverse_proxy localhost:{HTTP_PORT}", "invoke app"), "Caddyfile:16",
		"handle_errors hands the gate's refusals (401) to localhost:{HTTP_PORT} (route app), the app smsgate protects")
	sitetest.AssertLoadError(t, site("invoke app", "reverse_proxy 127.0.0.1:{HTTP_PORT}"), "Caddyfile:16",
		"handle_errors hands the gate's refusals (401) to 127.0.0.1:{HTTP_PORT}, the app smsgate protects")
}

// TestAnErrorRouteInvokingADynamicRouteToTheAppIsRefused: a named route
// that finds the app's upstreams per request (&(app) { reverse_proxy {
// dynamic a app 3000 } }, as in Docker or Kubernetes), invoked from
// handle_errors only, beside a site that proxies to the app itself (or
// the other way round). The route's upstreams were read from Caddy's
// adapted JSON as static dials only, a dynamic_upstreams module not at
// all, so both loaded and served refused requests from the app (at
// 075d127: 200 "the app's page for [admin]"). Now a route's dynamic
// upstreams are spelt as the site's dynamic lines are (dynamicUpstreams:
// an A lookup as its name and port, each source of a multi); a route to
// another upstream, or codes the gate never answers with, load.
func TestAnErrorRouteInvokingADynamicRouteToTheAppIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	site := func(route, serve, codes, errs string) string {
		return `&(app) {
	reverse_proxy {
		dynamic ` + route + `
		header_up Host app.localhost
	}
}
http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	` + serve + `
	handle_errors ` + codes + ` {
		` + errs + `
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`
	}
	const direct = "reverse_proxy {\n\t\tdynamic a localhost {HTTP_PORT}\n\t\theader_up Host app.localhost\n\t}"
	sitetest.AssertLoadError(t, site("a localhost {HTTP_PORT}", direct, "", "invoke app"), "Caddyfile:20",
		"handle_errors hands the gate's refusals (401) to dynamic a localhost {HTTP_PORT} (route app), the app smsgate protects")
	sitetest.AssertLoadError(t, site("a {\n\t\t\tname localhost\n\t\t\tport {HTTP_PORT}\n\t\t}", "reverse_proxy 127.0.0.1:{HTTP_PORT}", "", "invoke app"),
		"Caddyfile:20", "(route app), the app smsgate protects")
	sitetest.AssertLoadError(t, site("multi {\n\t\t\ta localhost {HTTP_PORT}\n\t\t}", "invoke app", "", direct), "Caddyfile:19",
		"handle_errors hands the gate's refusals (401) to dynamic a localhost {HTTP_PORT}, the app smsgate protects")
	for name, cfg := range map[string]string{
		"other codes":      site("a localhost {HTTP_PORT}", direct, "502", "invoke app"),
		"another upstream": site("a localhost 9", direct, "", "invoke app"),
	} {
		t.Run(name, func(t *testing.T) {
			sitetest.Start(t, cfg)
			c := sitetest.NewClient(t, "")
			c.Accept = "application/json"
			if res := c.GetWith("/private", map[string]string{"Remote-User": "admin"}); strings.Contains(res.Text, "app's page") {
				t.Fatalf("a refused request was served by the app: %d %s", res.StatusCode, res.Text)
			}
		})
	}
}
