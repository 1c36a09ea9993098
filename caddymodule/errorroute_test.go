package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
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
}`

// TestAnErrorRouteToTheAppIsRefused: the gate's refusal is Caddy's error
// (401), for the site's handle_errors to shape; a handle_errors that
// proxies to the app itself (to let it render error pages) served every
// refused request from the app, unauthenticated and with the identity
// header the client wrote: 200 "the app's page for [admin]". Now such a
// config is refused at the handle_errors' reverse_proxy line, however the
// app's address is written (127.0.0.1 or [::1] for localhost, a scheme,
// a tcp4/ or tcp6/ network:
// before, only the very spelling of the site's reverse_proxy was caught);
// one given only other codes, or proxying to another upstream (an error
// page service), loads, and refuses.
func TestAnErrorRouteToTheAppIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	site := func(codes, upstream, host string) string {
		return strings.NewReplacer("CODES", codes, "UPSTREAM", upstream, "HOST", host).Replace(errorRouteSite)
	}
	for _, tc := range []struct{ cfg, up string }{
		{site("", "localhost:{HTTP_PORT}", "app.localhost"), "localhost:{HTTP_PORT}"},
		{site("401 403", "localhost:{HTTP_PORT}", "app.localhost"), "localhost:{HTTP_PORT}"},
		{site("4xx", "localhost:{HTTP_PORT}", "app.localhost"), "localhost:{HTTP_PORT}"},
		// A replaced gate's 503 (TestAReplacedGatesAnswerIsNotServedByTheApp).
		{site("404 5xx", "localhost:{HTTP_PORT}", "app.localhost"), "localhost:{HTTP_PORT}"},
		{site("503", "localhost:{HTTP_PORT}", "app.localhost"), "localhost:{HTTP_PORT}"},
		{site("", "", "app.localhost\n\t\t\tto localhost:{HTTP_PORT}"), "localhost:{HTTP_PORT}"}, // the upstream on a to line
		// The app written another way (before, each loaded and served the
		// refused request from the app).
		{site("", "127.0.0.1:{HTTP_PORT}", "app.localhost"), "127.0.0.1:{HTTP_PORT}"},
		{site("", "http://localhost:{HTTP_PORT}", "app.localhost"), "http://localhost:{HTTP_PORT}"},
		{site("", "[::1]:{HTTP_PORT}", "app.localhost"), "[::1]:{HTTP_PORT}"},
		// A network that only picks IPv4 or IPv6 (rev7: loaded).
		{site("", "tcp4/127.0.0.1:{HTTP_PORT}", "app.localhost"), "tcp4/127.0.0.1:{HTTP_PORT}"},
		{site("", "tcp6/[::1]:{HTTP_PORT}", "app.localhost"), "tcp6/[::1]:{HTTP_PORT}"},
	} {
		sitetest.AssertLoadError(t, tc.cfg, "Caddyfile:13",
			"handle_errors hands the gate's refusals (401) to "+tc.up+", the app smsgate protects")
	}
	// An error-page service: another upstream.
	errorPages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("an error page"))
	}))
	t.Cleanup(errorPages.Close)
	for name, cfg := range map[string]string{
		"other codes":      site("502 504", "localhost:{HTTP_PORT}", "app.localhost"),
		"an error service": site("", errorPages.Listener.Addr().String(), "errors.localhost"),
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
