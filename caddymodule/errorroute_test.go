package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// errorRouteSite is a gate in front of an app (another site of the same
// Caddy), whose handle_errors (CODES: its arguments) proxies to UPSTREAM
// as HOST.
const errorRouteSite = `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	reverse_proxy localhost:{HTTP_PORT} {
		header_up Host app.localhost
	}
	handle_errors CODES {
		reverse_proxy UPSTREAM {
			header_up Host HOST
		}
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}
http://errors.localhost:{HTTP_PORT} {
	respond "an error page" 401
}`

// TestAnErrorRouteToTheAppIsRefused: the gate's refusal is Caddy's error
// (401), for the site's handle_errors to shape; a handle_errors that
// proxies to the app itself (to let it render error pages) served every
// refused request from the app, unauthenticated and with the identity
// header the client wrote: 200 "the app's page for [admin]". Now such a
// config is refused at the handle_errors' reverse_proxy line; one given
// only other codes, or proxying to another upstream, loads, and refuses.
func TestAnErrorRouteToTheAppIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	site := func(codes, upstream, host string) string {
		return strings.NewReplacer("CODES", codes, "UPSTREAM", upstream, "HOST", host).Replace(errorRouteSite)
	}
	for _, cfg := range []string{
		site("", "localhost:{HTTP_PORT}", "app.localhost"),
		site("401 403", "localhost:{HTTP_PORT}", "app.localhost"),
		site("4xx", "localhost:{HTTP_PORT}", "app.localhost"),
		site("", "", "app.localhost\n\t\t\tto localhost:{HTTP_PORT}"), // the upstream on a to line
	} {
		sitetest.AssertLoadError(t, cfg, "Caddyfile:13",
			"handle_errors hands the gate's refusals (401) to localhost:{HTTP_PORT}, the app smsgate protects")
	}
	for name, cfg := range map[string]string{
		"other codes": site("404 5xx", "localhost:{HTTP_PORT}", "app.localhost"),
		// Another upstream (this Caddy here, by another address).
		"an error service": site("", "127.0.0.1:{HTTP_PORT}", "errors.localhost"),
	} {
		t.Run(name, func(t *testing.T) {
			sitetest.Start(t, cfg)
			c := sitetest.NewClient(t, "")
			c.Accept = "application/json"
			if res := c.GetWith("/private", map[string]string{"Remote-User": "admin"}); res.StatusCode != http.StatusUnauthorized || strings.Contains(res.Text, "app's page") {
				t.Fatalf("%d %s", res.StatusCode, res.Text)
			}
		})
	}
}
