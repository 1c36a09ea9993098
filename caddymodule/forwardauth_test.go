package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// portalSites is one smsgate portal and two apps behind Caddy's
// forward_auth, all on *.sso.localhost, sharing one sign-in.
const portalSites = `http://auth.sso.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		portal_url http://auth.sso.localhost:{HTTP_PORT}
		redirect_hosts *.sso.localhost:*
		store badger {DIR}
		provider log
	}
	respond "portal"
}

(protected) {
	handle {args[0]} {
		route {
			# Never trust an identity header from the client.
			request_header -Remote-User
			forward_auth localhost:{HTTP_PORT} {
				uri /.smsgate/auth{args[1]}
				header_up Host auth.sso.localhost:{HTTP_PORT}
				copy_headers Remote-User
			}
			# The session cookie is a bearer token: the app never sees it.
			request_header Cookie "(^|;\s*)smsgate_(session|known)=[^;]*" ""
			respond "{args[2]} user={http.request.header.Remote-User} cookie=[{http.request.header.Cookie}]"
		}
	}
}

http://app1.sso.localhost:{HTTP_PORT} {
	import protected * "" app1
}

http://app2.sso.localhost:{HTTP_PORT} {
	import protected /admin/* ?max_age=15m app2-admin
	import protected * "" app2
}`

// absolute is path at host, on the site's HTTP port.
func absolute(s *sitetest.Site, host, path string) string {
	return s.WithPorts("http://" + host + ":{HTTP_PORT}" + path)
}

func TestForwardAuthPortal(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, portalSites)
	portal := func(p string) string { return absolute(s, "auth.sso.localhost", "/.smsgate/"+p) }
	c := sitetest.NewClient(t, "")

	// No session: the app sends the browser to the portal, keeping the target.
	res := c.GetURL(absolute(s, "app1.sso.localhost", "/dash?x=1"))
	want := portal("login?rd=" + url.QueryEscape(absolute(s, "app1.sso.localhost", "/dash?x=1")))
	sitetest.Expect(t, res, http.StatusFound, want)
	// An API client gets 401.
	c.Accept = "application/json"
	sitetest.Expect(t, c.GetURL(absolute(s, "app1.sso.localhost", "/api")), http.StatusUnauthorized, "")
	c.Accept = "text/html"

	// Sign in at the portal, and land back on the app.
	page := c.GetURL(res.Header.Get("Location"))
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, c.PostURL(portal("login"), url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	res = c.PostURL(portal("verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusSeeOther, absolute(s, "app1.sso.localhost", "/dash?x=1"))

	// One sign-in for both apps; the apps see Remote-User, never the cookie.
	c.SetCookieFor(absolute(s, "app1.sso.localhost", "/"), "app_pref", "dark")
	for _, app := range []string{"app1", "app2"} {
		res = c.GetURL(absolute(s, app+".sso.localhost", "/dash"))
		sitetest.Expect(t, res, http.StatusOK, "")
		if !strings.HasPrefix(res.Text, app+" user=carol cookie=[") || strings.Contains(res.Text, "smsgate_session") || strings.Contains(res.Text, "smsgate_known") {
			t.Fatalf("%s answered %q", app, res.Text)
		}
	}
	if !strings.Contains(c.GetURL(absolute(s, "app1.sso.localhost", "/")).Text, "app_pref=dark") {
		t.Fatal("the app's own cookie was lost")
	}

	// A client's own Remote-User header is not believed.
	m := sitetest.NewClient(t, "")
	req, _ := http.NewRequest(http.MethodGet, absolute(s, "app1.sso.localhost", "/"), nil)
	req.Header.Set("Remote-User", "carol")
	sitetest.Expect(t, m.Do(req), http.StatusFound, portal("login?rd="+url.QueryEscape(absolute(s, "app1.sso.localhost", "/"))))

	// Step-up: /admin on app2 wants a code from the last 15 minutes.
	s.Advance(16 * time.Minute)
	sitetest.Expect(t, c.GetURL(absolute(s, "app2.sso.localhost", "/other")), http.StatusOK, "")
	res = c.GetURL(absolute(s, "app2.sso.localhost", "/admin/users"))
	sitetest.Expect(t, res, http.StatusFound, portal("login?rd="+url.QueryEscape(absolute(s, "app2.sso.localhost", "/admin/users"))))
	page = c.GetURL(res.Header.Get("Location"))
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	c.PostURL(portal("login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, c.PostURL(portal("verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, absolute(s, "app2.sso.localhost", "/admin/users"))
	if res = c.GetURL(absolute(s, "app2.sso.localhost", "/admin/users")); !strings.HasPrefix(res.Text, "app2-admin user=carol") {
		t.Fatalf("after step-up: %d %q", res.StatusCode, res.Text)
	}

	// Logout at the portal ends the session on every app, and goes back.
	stolen := c.Cookie("smsgate_session")
	page = c.GetURL(portal("logout?rd=" + url.QueryEscape(absolute(s, "app1.sso.localhost", "/bye"))))
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, c.PostURL(portal("logout"), url.Values{"csrf": {tok}}), http.StatusSeeOther, absolute(s, "app1.sso.localhost", "/bye"))
	for _, app := range []string{"app1", "app2"} {
		if res = c.GetURL(absolute(s, app+".sso.localhost", "/")); res.StatusCode != http.StatusFound {
			t.Fatalf("%s after logout: %d", app, res.StatusCode)
		}
	}
	thief := sitetest.NewClient(t, "")
	thief.SetCookieFor(absolute(s, "app2.sso.localhost", "/"), "smsgate_session", stolen)
	if res = thief.GetURL(absolute(s, "app2.sso.localhost", "/")); res.StatusCode != http.StatusFound {
		t.Fatalf("a copy of the revoked cookie: %d", res.StatusCode)
	}

	// A foreign return target is dropped.
	page = c.GetURL(portal("login?rd=" + url.QueryEscape("http://evil.example/")))
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	s.Advance(time.Minute)
	c.PostURL(portal("login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, c.PostURL(portal("verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// TestTraefikForwardAuthHeaders sends exactly what Traefik's forwardAuth
// middleware sends (Traefik is not installable here).
func TestTraefikForwardAuthHeaders(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, portalSites)
	check := func(c *sitetest.Client, cookieless bool) *sitetest.Response {
		req, _ := http.NewRequest(http.MethodGet, absolute(s, "auth.sso.localhost", "/.smsgate/auth"), nil)
		req.Header.Set("X-Forwarded-Method", "GET")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "wiki.sso.localhost")
		req.Header.Set("X-Forwarded-Uri", "/page?id=7")
		req.Header.Set("X-Forwarded-For", "198.51.100.9")
		req.Header.Set("X-Forwarded-Port", "443")
		req.Header.Set("X-Real-Ip", "198.51.100.9")
		return c.Do(req)
	}
	c := sitetest.NewClient(t, "")
	sitetest.Expect(t, check(c, true), http.StatusFound, absolute(s, "auth.sso.localhost", "/.smsgate/login?rd="+url.QueryEscape("https://wiki.sso.localhost/page?id=7")))
	// Signed in: 200 and the identity header for the upstream.
	page := c.GetURL(absolute(s, "auth.sso.localhost", "/.smsgate/login"))
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	c.PostURL(absolute(s, "auth.sso.localhost", "/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	c.PostURL(absolute(s, "auth.sso.localhost", "/.smsgate/verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	res := check(c, false)
	sitetest.Expect(t, res, http.StatusOK, "")
	if res.Header.Get("Remote-User") != "carol" {
		t.Fatalf("Remote-User = %q", res.Header.Get("Remote-User"))
	}
}

// TestForwardedHeadersFromStrangersAreIgnored: without trusted_proxies,
// X-Forwarded-* say nothing, so no redirect target can be planted.
func TestForwardedHeadersFromStrangersAreIgnored(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, portalSites)
	c := sitetest.NewClient(t, "")
	req, _ := http.NewRequest(http.MethodGet, absolute(s, "auth.sso.localhost", "/.smsgate/auth"), nil)
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Uri", "/phish")
	req.Header.Set("X-Original-URL", "https://evil.example/phish")
	sitetest.Expect(t, c.Do(req), http.StatusFound, absolute(s, "auth.sso.localhost", "/.smsgate/login"))
	req, _ = http.NewRequest(http.MethodGet, absolute(s, "auth.sso.localhost", "/.smsgate/auth?mode=status"), nil)
	sitetest.Expect(t, c.Do(req), http.StatusUnauthorized, "")
}

// twoGatesOnOneStore is twoGates of one realm (sso.localhost) on one
// Badger store, giving carol +14155552671.
func twoGatesOnOneStore(t *testing.T) (s *sitetest.Site, a, b func(path string) string) {
	t.Helper()
	gate := `smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		store badger {DIR}
		provider log
	}`
	return twoGates(t, gate, gate)
}

// twoGates starts gateA at a.sso.localhost and gateB at b.sso.localhost,
// in one Caddy, each answering with its letter and the user; a and b
// make their absolute URLs.
func twoGates(t *testing.T, gateA, gateB string) (s *sitetest.Site, a, b func(path string) string) {
	t.Helper()
	s = sitetest.Start(t, "http://a.sso.localhost:{HTTP_PORT} {\n\t"+gateA+"\n\trespond \"a {http.auth.user.id}\"\n}\nhttp://b.sso.localhost:{HTTP_PORT} {\n\t"+gateB+"\n\trespond \"b {http.auth.user.id}\"\n}")
	a = func(p string) string { return absolute(s, "a.sso.localhost", p) }
	b = func(p string) string { return absolute(s, "b.sso.localhost", p) }
	return s, a, b
}

// loggedOut signs c out at the gate at, and returns the session cookie it
// had (a thief's copy).
func loggedOut(t *testing.T, c *sitetest.Client, at func(path string) string) (stolen string) {
	t.Helper()
	page := c.GetURL(at("/.smsgate/logout"))
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	stolen = c.Cookie("smsgate_session")
	sitetest.Expect(t, c.PostURL(at("/.smsgate/logout"), url.Values{"csrf": {tok}}), http.StatusOK, "")
	return stolen
}

// carolSignedIn signs carol in at gate a of twoGatesOnOneStore; gate b
// admits her too (one cookie for the domain), and has her session cached.
func carolSignedIn(t *testing.T, s *sitetest.Site, a, b func(path string) string) *sitetest.Client {
	t.Helper()
	c := sitetest.NewClient(t, "")
	page := c.GetURL(a("/.smsgate/login"))
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	c.PostURL(a("/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	c.PostURL(a("/.smsgate/verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	sitetest.ExpectBody(t, c.GetURL(a("/")), "a carol")
	sitetest.ExpectBody(t, c.GetURL(b("/")), "b carol")
	return c
}

// TestRevocationReachesOtherGates: two gates on one store (two instances,
// in effect). A logout on one is honoured by the other within the bound,
// though the other had the token cached.
func TestRevocationReachesOtherGates(t *testing.T) {
	sitetest.Parallel(t)
	s, a, b := twoGatesOnOneStore(t)
	stolen := loggedOut(t, carolSignedIn(t, s, a, b), a)
	thief := sitetest.NewClient(t, "")
	thief.SetCookieFor(b("/"), "smsgate_session", stolen)
	s.Advance(3 * time.Second) // the bound is 2s
	if res := thief.GetURL(b("/")); res.StatusCode != http.StatusFound {
		t.Fatalf("gate b still accepts a session revoked at gate a: %d %s", res.StatusCode, res.Text)
	}
}
