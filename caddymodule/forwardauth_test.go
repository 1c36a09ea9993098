package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/caddymodule"
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
		redirect_hosts *.sso.localhost
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
			request_header Cookie "(^|;\s*)smsgate_session=[^;]*" ""
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

func absolute(host, path string) string { return withPorts("http://" + host + ":{HTTP_PORT}" + path) }

func (c *client) getURL(u string) *response {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return c.do(req)
}

func (c *client) postURL(u string, form url.Values) *response {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func TestForwardAuthPortal(t *testing.T) {
	s := startSiteWith(t, trusted, portalSites)
	portal := func(p string) string { return absolute("auth.sso.localhost", "/.smsgate/"+p) }
	c := newClient(t, "")

	// No session: the app sends the browser to the portal, keeping the target.
	res := c.getURL(absolute("app1.sso.localhost", "/dash?x=1"))
	want := portal("login?rd=" + url.QueryEscape(absolute("app1.sso.localhost", "/dash?x=1")))
	expect(t, res, http.StatusFound, want)
	// An API client gets 401.
	c.accept = "application/json"
	expect(t, c.getURL(absolute("app1.sso.localhost", "/api")), http.StatusUnauthorized, "")
	c.accept = "text/html"

	// Sign in at the portal, and land back on the app.
	page := c.getURL(res.Header.Get("Location"))
	tok := csrfField.FindStringSubmatch(page.body)[1]
	expect(t, c.postURL(portal("login"), url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	res = c.postURL(portal("verify"), url.Values{"code": {s.lastCode()}, "csrf": {tok}})
	expect(t, res, http.StatusSeeOther, absolute("app1.sso.localhost", "/dash?x=1"))

	// One sign-in for both apps; the apps see Remote-User, never the cookie.
	c.setCookieFor(absolute("app1.sso.localhost", "/"), "app_pref", "dark")
	for _, app := range []string{"app1", "app2"} {
		res = c.getURL(absolute(app+".sso.localhost", "/dash"))
		expect(t, res, http.StatusOK, "")
		if !strings.HasPrefix(res.body, app+" user=carol cookie=[") || strings.Contains(res.body, "smsgate_session") {
			t.Fatalf("%s answered %q", app, res.body)
		}
	}
	if !strings.Contains(c.getURL(absolute("app1.sso.localhost", "/")).body, "app_pref=dark") {
		t.Fatal("the app's own cookie was lost")
	}

	// A client's own Remote-User header is not believed.
	m := newClient(t, "")
	req, _ := http.NewRequest(http.MethodGet, absolute("app1.sso.localhost", "/"), nil)
	req.Header.Set("Remote-User", "carol")
	expect(t, m.do(req), http.StatusFound, portal("login?rd="+url.QueryEscape(absolute("app1.sso.localhost", "/"))))

	// Step-up: /admin on app2 wants a code from the last 15 minutes.
	caddymodule.Advance(16 * time.Minute)
	expect(t, c.getURL(absolute("app2.sso.localhost", "/other")), http.StatusOK, "")
	res = c.getURL(absolute("app2.sso.localhost", "/admin/users"))
	expect(t, res, http.StatusFound, portal("login?rd="+url.QueryEscape(absolute("app2.sso.localhost", "/admin/users"))))
	page = c.getURL(res.Header.Get("Location"))
	tok = csrfField.FindStringSubmatch(page.body)[1]
	c.postURL(portal("login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	expect(t, c.postURL(portal("verify"), url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, absolute("app2.sso.localhost", "/admin/users"))
	if res = c.getURL(absolute("app2.sso.localhost", "/admin/users")); !strings.HasPrefix(res.body, "app2-admin user=carol") {
		t.Fatalf("after step-up: %d %q", res.StatusCode, res.body)
	}

	// Logout at the portal ends the session on every app, and goes back.
	stolen := c.cookie("smsgate_session")
	page = c.getURL(portal("logout?rd=" + url.QueryEscape(absolute("app1.sso.localhost", "/bye"))))
	tok = csrfField.FindStringSubmatch(page.body)[1]
	expect(t, c.postURL(portal("logout"), url.Values{"csrf": {tok}}), http.StatusSeeOther, absolute("app1.sso.localhost", "/bye"))
	for _, app := range []string{"app1", "app2"} {
		if res = c.getURL(absolute(app+".sso.localhost", "/")); res.StatusCode != http.StatusFound {
			t.Fatalf("%s after logout: %d", app, res.StatusCode)
		}
	}
	thief := newClient(t, "")
	thief.setCookieFor(absolute("app2.sso.localhost", "/"), "smsgate_session", stolen)
	if res = thief.getURL(absolute("app2.sso.localhost", "/")); res.StatusCode != http.StatusFound {
		t.Fatalf("a copy of the revoked cookie: %d", res.StatusCode)
	}

	// A foreign return target is dropped.
	page = c.getURL(portal("login?rd=" + url.QueryEscape("http://evil.example/")))
	tok = csrfField.FindStringSubmatch(page.body)[1]
	caddymodule.Advance(time.Minute)
	c.postURL(portal("login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	expect(t, c.postURL(portal("verify"), url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// TestTraefikForwardAuthHeaders sends exactly what Traefik's forwardAuth
// middleware sends (Traefik is not installable here).
func TestTraefikForwardAuthHeaders(t *testing.T) {
	s := startSiteWith(t, trusted, portalSites)
	check := func(c *client, cookieless bool) *response {
		req, _ := http.NewRequest(http.MethodGet, absolute("auth.sso.localhost", "/.smsgate/auth"), nil)
		req.Header.Set("X-Forwarded-Method", "GET")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "wiki.sso.localhost")
		req.Header.Set("X-Forwarded-Uri", "/page?id=7")
		req.Header.Set("X-Forwarded-For", "198.51.100.9")
		req.Header.Set("X-Forwarded-Port", "443")
		req.Header.Set("X-Real-Ip", "198.51.100.9")
		return c.do(req)
	}
	c := newClient(t, "")
	expect(t, check(c, true), http.StatusFound, absolute("auth.sso.localhost", "/.smsgate/login?rd="+url.QueryEscape("https://wiki.sso.localhost/page?id=7")))
	// Signed in: 200 and the identity header for the upstream.
	page := c.getURL(absolute("auth.sso.localhost", "/.smsgate/login"))
	tok := csrfField.FindStringSubmatch(page.body)[1]
	c.postURL(absolute("auth.sso.localhost", "/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	c.postURL(absolute("auth.sso.localhost", "/.smsgate/verify"), url.Values{"code": {s.lastCode()}, "csrf": {tok}})
	res := check(c, false)
	expect(t, res, http.StatusOK, "")
	if res.Header.Get("Remote-User") != "carol" {
		t.Fatalf("Remote-User = %q", res.Header.Get("Remote-User"))
	}
}

// TestForwardedHeadersFromStrangersAreIgnored: without trusted_proxies,
// X-Forwarded-* say nothing, so no redirect target can be planted.
func TestForwardedHeadersFromStrangersAreIgnored(t *testing.T) {
	startSite(t, portalSites)
	c := newClient(t, "")
	req, _ := http.NewRequest(http.MethodGet, absolute("auth.sso.localhost", "/.smsgate/auth"), nil)
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Uri", "/phish")
	req.Header.Set("X-Original-URL", "https://evil.example/phish")
	expect(t, c.do(req), http.StatusFound, absolute("auth.sso.localhost", "/.smsgate/login"))
	req, _ = http.NewRequest(http.MethodGet, absolute("auth.sso.localhost", "/.smsgate/auth?mode=status"), nil)
	expect(t, c.do(req), http.StatusUnauthorized, "")
}

// TestRevocationReachesOtherGates: two gates on one store (two instances,
// in effect). A logout on one is honoured by the other within the bound,
// though the other had the token cached.
func TestRevocationReachesOtherGates(t *testing.T) {
	gate := `smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		store badger {DIR}
		provider log
	}`
	s := startSite(t, "http://a.sso.localhost:{HTTP_PORT} {\n\t"+gate+"\n\trespond \"a {http.auth.user.id}\"\n}\nhttp://b.sso.localhost:{HTTP_PORT} {\n\t"+gate+"\n\trespond \"b {http.auth.user.id}\"\n}")
	c := newClient(t, "")
	a := func(p string) string { return absolute("a.sso.localhost", p) }
	b := func(p string) string { return absolute("b.sso.localhost", p) }
	page := c.getURL(a("/.smsgate/login"))
	tok := csrfField.FindStringSubmatch(page.body)[1]
	c.postURL(a("/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	c.postURL(a("/.smsgate/verify"), url.Values{"code": {s.lastCode()}, "csrf": {tok}})
	expectBody(t, c.getURL(b("/")), "b carol") // SSO, and now cached by b

	page = c.getURL(a("/.smsgate/logout"))
	tok = csrfField.FindStringSubmatch(page.body)[1]
	stolen := c.cookie("smsgate_session")
	c.postURL(a("/.smsgate/logout"), url.Values{"csrf": {tok}})
	thief := newClient(t, "")
	thief.setCookieFor(b("/"), "smsgate_session", stolen)
	caddymodule.Advance(3 * time.Second) // the bound is 2s
	if res := thief.getURL(b("/")); res.StatusCode != http.StatusFound {
		t.Fatalf("gate b still accepts a session revoked at gate a: %d %s", res.StatusCode, res.body)
	}
}
