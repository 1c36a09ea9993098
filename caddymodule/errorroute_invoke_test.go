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
