package caddymodule_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// cookieEchoWithheld is the warning of a check that echoed no Cookie.
const cookieEchoWithheld = "forward-auth check answered without the request's cookies (Cookie): it echoes them only to a proxy in the server's trusted_proxies; a proxy that copies Cookie from the answer (nginx's $upstream_http_cookie, Traefik's authResponseHeaders) must be listed there, or its apps get no cookies"

// TestTheChecksCookieEchoIsForTrustedProxiesOnly: GET /.smsgate/auth is
// answered on every site with a gate, the inline gate in front of an app
// too, and its 200 echoed the request's cookies (smsgate's taken off) in
// Cookie, for a proxy that copies them to the app (nginx, Traefik). A
// page's script may read that response header (only Set-Cookie is hidden
// from it), so an XSS in a gated app fetched the check and read every
// HttpOnly cookie of its origin (attack22). Now Cookie is echoed only to
// a client in the server's trusted_proxies, and a check answered without
// it says why in the log, once per gate, no cookie in it.
func TestTheChecksCookieEchoIsForTrustedProxiesOnly(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Carol(t, sitetest.TrustedProxies) // trusts 127.0.0.1
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	c.SetCookie("app_secret", "httponly-value") // the app's own, HttpOnly in a browser
	check := func() *sitetest.Response {
		t.Helper()
		// A script's fetch('/.smsgate/auth'): same origin, no headers of its own.
		res := c.GetWith("/.smsgate/auth", map[string]string{"Accept": "*/*", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"})
		sitetest.Expect(t, res, http.StatusOK, "")
		return res
	}
	// From the trusted proxy: the app's cookie, and not smsgate's.
	if got := check().Header.Get("Cookie"); !strings.Contains(got, "app_secret=httponly-value") || strings.Contains(got, "smsgate") {
		t.Fatalf("the check echoed Cookie %q to its trusted proxy; want the app's cookie and none of smsgate's", got)
	}
	if warned := s.LogEntries(cookieEchoWithheld); len(warned) != 0 {
		t.Fatalf("warned of a withheld Cookie echo where it was sent: %v", warned)
	}
	// From a browser (127.0.0.2, not in trusted_proxies): no Cookie, and
	// no warning: its fetch does not spend the one the proxy needs.
	c.OnLoopback(2)
	for range 3 {
		if got := check().Header.Values("Cookie"); len(got) != 0 {
			t.Fatalf("the check echoed Cookie %q to a client outside trusted_proxies (a page's script reads it)", got)
		}
	}
	if warned := s.LogEntries(cookieEchoWithheld); len(warned) != 0 {
		t.Fatalf("a browser's own fetch of the check spent the warning meant for a proxy (review22): %v", warned)
	}
	// From a proxy left out of trusted_proxies (127.0.0.3: an nginx that
	// sends the original request's address): no Cookie, one warning, its ip.
	c.OnLoopback(3)
	for range 3 {
		res := c.GetWith("/.smsgate/auth", map[string]string{"X-Original-URL": "http://localhost/app", "X-Original-Method": "GET"})
		sitetest.Expect(t, res, http.StatusOK, "")
		if got := res.Header.Values("Cookie"); len(got) != 0 {
			t.Fatalf("the check echoed Cookie %q to a proxy outside trusted_proxies", got)
		}
	}
	warned := s.LogEntries(cookieEchoWithheld)
	if len(warned) != 1 {
		t.Fatalf("%d warnings of the withheld Cookie echo after 3 checks; want one: %v", len(warned), warned)
	}
	if w := warned[0]; w["level"] != "warn" || w["ip"] != "127.0.0.3" || strings.Contains(fmt.Sprint(w), "httponly-value") || strings.Contains(fmt.Sprint(w), "app_secret") {
		t.Fatalf("the warning: %v; want level warn, the proxy's ip, no cookie", w)
	}
}
