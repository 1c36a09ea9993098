package caddymodule_test

import (
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
