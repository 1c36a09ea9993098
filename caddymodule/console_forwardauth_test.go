package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// ssoService plays an SSO's verify endpoint for the console: X-Token
// "<name>-token" is <name> (alice or bob), anything else is refused.
func ssoService(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch tok := r.Header.Get("X-Token"); tok {
		case "alice-token", "bob-token":
			w.Header().Set("Remote-User", strings.TrimSuffix(tok, "-token"))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// consoleForm posts a console form with origin.
func consoleForm(c *sitetest.Client, target string, form url.Values, origin string) *sitetest.Response {
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return c.Do(req)
}

var endForm = regexp.MustCompile(`name="session" value="([^"]+)"`)

// TestConsoleBehindForwardAuth: smsgate as the second factor behind an
// SSO's forward_auth (identity from Remote-User). The admin the SSO names
// uses the console: lists a user, ends his session with a form from the
// console's origin (another origin's is refused); the user the SSO names
// otherwise gets 403; a client's own Remote-User, without the SSO, gets
// nothing.
func TestConsoleBehindForwardAuth(t *testing.T) {
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	forward_auth `+ssoService(t)+` {
		uri /verify
		copy_headers Remote-User
	}
	smsgate {
		identity {http.request.header.Remote-User}
		admins alice
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	alice, bob := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	alice.Header = http.Header{"X-Token": {"alice-token"}}
	bob.Header = http.Header{"X-Token": {"bob-token"}}
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Enroll(t, s, bob, "+447400123456")

	sitetest.Expect(t, bob.Get("/.smsgate/admin/"), http.StatusForbidden, "")
	sitetest.Expect(t, bob.Get("/.smsgate/admin/user?name=bob"), http.StatusForbidden, "")
	forger := sitetest.NewClient(t, "")
	if res := forger.GetWith("/.smsgate/admin/", map[string]string{"Remote-User": "alice"}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged Remote-User at the console: %d", res.StatusCode)
	}
	// Alice's session with bob's SSO login is not alice.
	mixed := sitetest.NewClient(t, "")
	mixed.Header = http.Header{"X-Token": {"bob-token"}, "Cookie": {"smsgate_session=" + alice.Cookie("smsgate_session")}}
	if res := mixed.Get("/.smsgate/admin/"); res.StatusCode == http.StatusOK {
		t.Fatalf("alice's session cookie under bob's SSO login opens the console:\n%s", res.Text)
	}

	sitetest.ExpectBody(t, alice.Get("/.smsgate/admin/"), ">bob</a>")
	page := alice.Get("/.smsgate/admin/user?name=bob")
	sitetest.Expect(t, page, http.StatusOK, "")
	m := endForm.FindStringSubmatch(page.Text)
	if m == nil {
		t.Fatalf("no session of bob listed:\n%s", page.Text)
	}
	form := url.Values{"action": {"end"}, "session": {m[1]}, "csrf": {sitetest.CSRFField.FindStringSubmatch(page.Text)[1]}}
	target := sitetest.Base + "/.smsgate/admin/user?name=bob"
	sitetest.Expect(t, consoleForm(alice, target, form, "http://other.localhost:{HTTP_PORT}"), http.StatusForbidden, "")
	sitetest.Expect(t, bob.Get("/"), http.StatusOK, "")
	res := sitetest.ConsoleDone(t, consoleForm(alice, target, form, sitetest.Base), "end")
	sitetest.ExpectBody(t, res, "The session has ended")
	sitetest.Advance(2 * time.Second) // the revocation log is read every second
	sitetest.Expect(t, bob.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
}

// TestConsoleAtThePortal: with apps behind forward_auth to a portal, the
// console is the portal's. The admin who signed in through an app uses it
// there; a user who is not an admin gets 403; a form posted from an app's
// origin (another subdomain, the same cookie) is refused, the portal's
// own works, and the user it signs out is signed out of the apps.
func TestConsoleAtThePortal(t *testing.T) {
	s := sitetest.StartWith(t, sitetest.TrustedProxies, strings.Replace(portalSites, "user carol +14155552671", "user carol +14155552671\n\t\tuser dave +14155550100\n\t\tadmins carol", 1))
	portal := func(p string) string { return absolute(s, "auth.sso.localhost", "/.smsgate/"+p) }
	signIn := func(user string) *sitetest.Client {
		c := sitetest.NewClient(t, "")
		res := c.GetURL(absolute(s, "app1.sso.localhost", "/"))
		page := c.GetURL(res.Header.Get("Location"))
		tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
		sitetest.Expect(t, c.PostURL(portal("login"), url.Values{"username": {user}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, c.PostURL(portal("verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, absolute(s, "app1.sso.localhost", "/"))
		return c
	}
	carol, dave := signIn("carol"), signIn("dave")

	sitetest.Expect(t, dave.GetURL(portal("admin/")), http.StatusForbidden, "")
	page := carol.GetURL(portal("admin/user?name=dave"))
	sitetest.Expect(t, page, http.StatusOK, "")
	sitetest.ExpectBody(t, page, "at auth.sso.localhost:{HTTP_PORT}")
	form := url.Values{"action": {"revoke"}, "confirm": {"1"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(page.Text)[1]}}
	sitetest.Expect(t, consoleForm(carol, portal("admin/user?name=dave"), form, absolute(s, "app1.sso.localhost", "")), http.StatusForbidden, "")
	sitetest.Expect(t, dave.GetURL(absolute(s, "app2.sso.localhost", "/")), http.StatusOK, "")
	res := sitetest.ConsoleDone(t, consoleForm(carol, portal("admin/user?name=dave"), form, absolute(s, "auth.sso.localhost", "")), "revoke")
	sitetest.ExpectBody(t, res, "Every session and trusted browser of the user has ended, and so has every invite link they made at the console.")
	sitetest.Advance(2 * time.Second)
	for _, app := range []string{"app1", "app2"} {
		sitetest.Expect(t, dave.GetURL(absolute(s, app+".sso.localhost", "/")), http.StatusFound, portal("login?rd="+url.QueryEscape(absolute(s, app+".sso.localhost", "/"))))
	}
	sitetest.Expect(t, carol.GetURL(absolute(s, "app2.sso.localhost", "/")), http.StatusOK, "")
}
