package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// regexpDevice finds a device's remove form on the console.
var regexpDevice = regexp.MustCompile(`name="device" value="([^"]+)"`)

// consolePost submits a console form from the console's own page (its
// Origin), with the page's csrf token.
func consolePost(c *sitetest.Client, path string, form url.Values, origin string) *sitetest.Response {
	h := map[string]string{}
	if origin != "" {
		h["Origin"] = origin
	}
	return c.PostWith(path, form, h)
}

// TestConsoleAsAStranger: through a real Caddy, the console is only for
// the admins `admins` names, with a sign-in of the last 5 minutes, and its
// forms only from its own pages. Bob (not an admin), a stale session, a
// cross-origin POST, a POST with no Origin, JSON, and odd paths get
// nothing; alice's changes go through and are in the recent events with
// her name.
func TestConsoleAsAStranger(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice, bob := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Enroll(t, s, bob, "+4915123000002")

	// Bob is signed in, fresh, and not an admin.
	res := bob.Get("/.smsgate/admin/")
	sitetest.Expect(t, res, http.StatusForbidden, "")
	if strings.Contains(res.Text, "+1") || strings.Contains(res.Text, "alice") {
		t.Fatalf("the refusal shows the console:\n%s", res.Text)
	}
	for _, p := range []string{"/.smsgate/admin/costs", "/.smsgate/admin/events", "/.smsgate/admin/user?name=alice"} {
		sitetest.Expect(t, bob.Get(p), http.StatusForbidden, "")
	}
	// Nobody signed in: the login, then back.
	if r := sitetest.NewClient(t, "alice").Get("/.smsgate/admin/"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/.smsgate/") {
		t.Fatalf("a new browser: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	// Paths around it are not it.
	for _, p := range []string{"/.smsgate/admin", "/.smsgate/admin/x", "/.smsgate/admin/people/../costs/", "/.smsgate/auth/admin/"} {
		if r := bob.Get(p); r.StatusCode == http.StatusOK {
			t.Fatalf("GET %s as bob: 200\n%s", p, r.Text)
		}
	}

	// Alice: the people, numbers masked.
	res = alice.Get("/.smsgate/admin/")
	sitetest.Expect(t, res, http.StatusOK, "")
	for _, want := range []string{"alice", "bob", "49••", "Content-Security-Policy"} {
		if want == "Content-Security-Policy" {
			if !strings.Contains(res.Header.Get(want), "script-src 'self'") {
				t.Fatalf("the console's CSP: %q", res.Header.Get(want))
			}
			continue
		}
		if !strings.Contains(res.Text, want) {
			t.Fatalf("the people page lacks %q:\n%s", want, res.Text)
		}
	}
	if strings.Contains(res.Text, "4915123000002") || strings.Contains(res.Text, "4155550101") {
		t.Fatal("a full number on the console")
	}
	sitetest.ExpectBody(t, alice.Get("/.smsgate/admin/?q=bo"), ">bob</a>")
	if r := alice.Get("/.smsgate/admin/?q=bo"); strings.Contains(r.Text, ">alice</a>") {
		t.Fatal("the search for bo lists alice")
	}

	tok := alice.CSRF("/.smsgate/admin/user?name=bob")
	path := "/.smsgate/admin/user?name=bob"
	// A cross-origin form, a form with no Origin, a wrong token, JSON: refused.
	sitetest.Expect(t, consolePost(alice, path, url.Values{"action": {"revoke"}, "csrf": {tok}}, "http://evil.localhost"), http.StatusForbidden, "")
	sitetest.Expect(t, consolePost(alice, path, url.Values{"action": {"revoke"}, "csrf": {tok}}, ""), http.StatusForbidden, "")
	sitetest.Expect(t, consolePost(alice, path, url.Values{"action": {"revoke"}, "csrf": {"x" + tok}}, s.Base), http.StatusForbidden, "")
	sitetest.Expect(t, alice.PostJSON(path, s.Base, map[string]string{"action": "revoke"}), http.StatusForbidden, "")
	sitetest.Expect(t, bob.Get("/"), http.StatusOK, "") // none of them signed bob out

	// Bob's console POST, with his own token from a page he may see.
	btok := bob.CSRF("/.smsgate/devices")
	sitetest.Expect(t, consolePost(bob, "/.smsgate/admin/user?name=alice", url.Values{"action": {"revoke"}, "csrf": {btok}}, s.Base), http.StatusForbidden, "")
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")

	// Alice's own: an invite (link and QR code), then bob signed out.
	res = sitetest.ConsoleDone(t, consolePost(alice, path, url.Values{"action": {"invite"}, "csrf": {tok}}, s.Base), "invite")
	sitetest.Expect(t, res, http.StatusOK, "")
	sitetest.ExpectBody(t, res, "/.smsgate/invite?token=")
	sitetest.ExpectBody(t, res, `src="data:image/png;base64,`)
	res = sitetest.ConsoleDone(t, consolePost(alice, path, url.Values{"action": {"revoke"}, "confirm": {"1"}, "csrf": {tok}}, s.Base), "revoke")
	sitetest.ExpectBody(t, res, "Every session and trusted browser of the user has ended, and so has every invite link they made at the console.")
	s.Advance(2 * time.Second) // the revocation log is read every second
	if r := bob.Get("/"); r.StatusCode == http.StatusOK {
		t.Fatalf("bob still signed in after the console's revoke: %d", r.StatusCode)
	}
	// Bob's phone removed, through the same code as the admin API.
	m := regexpDevice.FindStringSubmatch(alice.Get(path).Text)
	if m == nil {
		t.Fatal("no device to remove on bob's page")
	}
	res = sitetest.ConsoleDone(t, consolePost(alice, path, url.Values{"action": {"remove"}, "device": {m[1]}, "confirm": {"1"}, "csrf": {tok}}, s.Base), "remove")
	sitetest.ExpectBody(t, res, "The device is removed, and with it the user") // the recovery codes its enrollment made (attack41)
	if _, body := sitetest.Admin(t, http.MethodGet, "/smsgate/users?realm=localhost", ""); strings.Contains(body, `"user":"bob"`) {
		t.Fatalf("bob's device is still listed: %s", body)
	}

	// What happened: each change with who made it; the refusals too.
	res = alice.Get("/.smsgate/admin/events?kind=admin_")
	sitetest.Expect(t, res, http.StatusOK, "")
	for _, want := range []string{"admin_invites", "admin_revoke", "admin_devices_remove", "<td>alice</td>"} {
		sitetest.ExpectBody(t, res, want)
	}
	if strings.Contains(res.Text, `data-kind="signed_in`) {
		t.Fatal("the admin_ filter lists sign-ins")
	}
	sitetest.ExpectBody(t, alice.Get("/.smsgate/admin/events?kind=console_"), "Reason: not an admin")
	sitetest.ExpectBody(t, alice.Get("/.smsgate/admin/events?user=bob"), "49••")

	// What it costs: two texts to two countries, drawn and tabled.
	res = alice.Get("/.smsgate/admin/costs")
	sitetest.Expect(t, res, http.StatusOK, "")
	for _, want := range []string{"<svg", "<table", "<th scope=\"row\">DE</th>", "<th scope=\"row\">US</th>"} {
		sitetest.ExpectBody(t, res, want)
	}

	// Six minutes later the session is stale: a code again first.
	s.Advance(6 * time.Minute)
	sitetest.Expect(t, alice.Get("/.smsgate/admin/"), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, consolePost(alice, path, url.Values{"action": {"invite"}, "csrf": {tok}}, s.Base), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "") // the site itself still lets her in
}

// TestNoConsoleByDefault: without admins, there is no console.
func TestNoConsoleByDefault(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Expect(t, alice.Get("/.smsgate/admin/"), http.StatusNotFound, "")
}

// TestConsoleWantsTheApp: an admin with an authenticator app reaches the
// console only with a sign-in by the app: a fresh texted code is not
// enough.
func TestConsoleWantsTheApp(t *testing.T) {
	sitetest.Parallel(t)
	_, c, secret := atTheConsolesVerify(t) // signed in by text a moment ago: the app first
	tok := c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/admin/")
	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusOK, "")
}

// atTheConsolesVerify starts a site whose admin carol holds a phone and
// an authenticator app (added after a text's sign-in), and has the console
// send her to the verify page: the site, her client, her app's secret.
func atTheConsolesVerify(t *testing.T) (*sitetest.Site, *sitetest.Client, string) {
	t.Helper()
	s := sitetest.Start(t, strings.Replace(sitetest.AppSite, "provider log", "provider log\n\t\tadmins carol", 1))
	c := sitetest.NewClient(t, "")
	secret := addApp(t, s, c)
	s.Advance(30 * time.Second) // the confirming code is used
	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusSeeOther, "/.smsgate/verify")
	return s, c, secret
}
