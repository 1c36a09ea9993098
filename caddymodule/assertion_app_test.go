package caddymodule_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// assertionApps is one portal whose forward-auth check hands the apps an
// identity assertion, and two apps that show the one they were given.
const assertionApps = `http://auth.sso.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		portal_url http://auth.sso.localhost:{HTTP_PORT}
		redirect_hosts *.sso.localhost:*
		signing_alg EdDSA
		assertion_header X-Smsgate-Assertion
		store badger {DIR}
		provider log
	}
	respond "portal"
}

(app) {
	route {
		request_header -X-Smsgate-Assertion
		forward_auth localhost:{HTTP_PORT} {
			uri /.smsgate/auth
			header_up Host auth.sso.localhost:{HTTP_PORT}
			copy_headers Remote-User X-Smsgate-Assertion
		}
		respond "{http.request.header.X-Smsgate-Assertion}"
	}
}

http://app1.sso.localhost:{HTTP_PORT} {
	import app
}

http://app2.sso.localhost:{HTTP_PORT} {
	import app
}`

// TestAnAssertionNamesItsApp: an identity assertion is a bearer token for
// two minutes (renewed while the user is active), handed to every app
// behind the portal; its audience named only the realm, so one app — a
// compromised wiki, or one that logs its headers — held, for each of its
// visitors, an assertion every other app of the realm that verifies
// assertions took as theirs, admin's too (Pomerium names the route's host
// for this). Now each names the host it was made for too
// (assertion:<realm>/<host>), which an app checks, and an app is never
// handed another's.
func TestAnAssertionNamesItsApp(t *testing.T) {
	s, c := carolAtApp1(t)
	for _, app := range []string{"app1", "app2"} {
		res := c.GetURL(absolute(s, app+".sso.localhost", "/"))
		var cl jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(res.Text), &cl); err != nil {
			t.Fatalf("%s was handed no assertion: %d %q (%v)", app, res.StatusCode, res.Text, err)
		}
		want := "assertion:sso.localhost/" + app + ".sso.localhost"
		other := "assertion:sso.localhost/" + map[string]string{"app1": "app2", "app2": "app1"}[app] + ".sso.localhost"
		if !slices.Contains(cl.Audience, want) || slices.Contains(cl.Audience, other) || !slices.Contains(cl.Audience, "assertion:sso.localhost") {
			t.Fatalf("the assertion %s was handed names %v: want %s (and the realm's), not %s", app, cl.Audience, want, other)
		}
	}
}

// TestAnAssertionNamesTheAppTheProxyNames: Caddy's forward_auth hands
// the check the client's own headers beside its X-Forwarded-Host, so a
// client — or a compromised app's page, whose script may send any header
// to its own origin — that adds X-Original-URL naming another app made
// the assertion handed to this app name that one (the check read nginx's
// X-Original-URL first), and this app could act as its visitor there:
// what naming the app was for. The client here is not a trusted proxy.
func TestAnAssertionNamesTheAppTheProxyNames(t *testing.T) {
	s, c := carolAtApp1(t)
	c.OnLoopback(2) // a browser, not the trusted proxy
	for _, forged := range []string{"X-Original-URL", "X-Forwarded-Host"} {
		req, _ := http.NewRequest(http.MethodGet, absolute(s, "app1.sso.localhost", "/"), nil)
		req.Header.Set(forged, map[string]string{"X-Original-URL": absolute(s, "app2.sso.localhost", "/"), "X-Forwarded-Host": s.WithPorts("app2.sso.localhost:{HTTP_PORT}")}[forged])
		res := c.Do(req)
		var cl jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(res.Text), &cl); err != nil {
			t.Fatalf("app1 was handed no assertion: %d %q (%v)", res.StatusCode, res.Text, err)
		}
		if slices.Contains(cl.Audience, "assertion:sso.localhost/app2.sso.localhost") {
			t.Fatalf("with the client's %s, the assertion app1 was handed names app2: %v", forged, cl.Audience)
		}
	}
}

// TestAnAssertionIsReusedAcrossAnAppsPages: an app's assertion is signed
// once and handed again for a minute, page after page. At a forward-auth
// check it was kept under the whole URL the proxy named, so every other
// page (each image, each query) was signed anew, a 10,000th one filling
// the gate's cache of them for every session.
func TestAnAssertionIsReusedAcrossAnAppsPages(t *testing.T) {
	s, c := carolAtApp1(t)
	first := c.GetURL(absolute(s, "app1.sso.localhost", "/")).Text
	s.Advance(10 * time.Second) // a new one would say so in its iat
	for _, path := range []string{"/", "/style.css", "/?page=2"} {
		if got := c.GetURL(absolute(s, "app1.sso.localhost", path)).Text; got != first {
			t.Fatalf("app1's page %s was handed a new assertion 10 s after the first:\n%s\nnot\n%s", path, got, first)
		}
	}
}

// TestAnOriginalURLWithoutSchemeNamesNoApp: a compromised app1 page sends
// its own origin one header, X-Original-URL naming app2 without a scheme
// (a same-origin fetch, no preflight), or two, the second naming no host:
// the assertion app1 is handed names no other app. Before, pages.appOf kept a
// URL without "://" whole and the assertion named app2; and a value naming
// no host reset pages.oneForwardedHost's comparison.
func TestAnOriginalURLWithoutSchemeNamesNoApp(t *testing.T) {
	s, c := carolAtApp1(t)
	c.OnLoopback(2) // a client, not the trusted proxy
	for _, forged := range [][]string{
		{absolute(s, "app2.sso.localhost", "/"), "x"},
		{"app2.sso.localhost"},
		{s.WithPorts("app2.sso.localhost:{HTTP_PORT}")},
	} {
		req, _ := http.NewRequest(http.MethodGet, absolute(s, "app1.sso.localhost", "/"), nil)
		req.Header["X-Original-Url"] = forged
		res := c.Do(req)
		var cl jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(res.Text), &cl); err != nil {
			t.Fatalf("X-Original-URL %q: app1 was handed no assertion: %d %q (%v)", forged, res.StatusCode, res.Text, err)
		}
		if slices.ContainsFunc(cl.Audience, func(a string) bool { return strings.Contains(a, "app2") }) {
			t.Errorf("X-Original-URL %q: the assertion app1 was handed names app2: %v", forged, cl.Audience)
		}
	}
}

// carolAtApp1 starts the portal of assertionApps, with carol signed in at
// app1 through it.
func carolAtApp1(t *testing.T) (*sitetest.Site, *sitetest.Client) {
	t.Helper()
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, assertionApps)
	c := sitetest.NewClient(t, "")
	res := c.GetURL(absolute(s, "app1.sso.localhost", "/"))
	page := c.GetURL(res.Header.Get("Location"))
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	c.PostURL(absolute(s, "auth.sso.localhost", "/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, c.PostURL(absolute(s, "auth.sso.localhost", "/.smsgate/verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}}),
		http.StatusSeeOther, absolute(s, "app1.sso.localhost", "/"))
	return s, c
}
