package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/caddymodule"
)

// trustSite has a gate that offers trust for 30 days (the default), with sessions of an
// hour, and a stricter one on /admin (max_age 15m) on the same store.
const trustSite = `http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			session_lifetime 1h
			max_age 15m
			store badger {DIR}
			provider log
		}
		respond "admin {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			session_lifetime 1h
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
	}
}`

// signInTrusting signs c in as carol by text, trusting the browser if trust.
func signInTrusting(t *testing.T, s *site, c *client, trust bool) {
	t.Helper()
	caddymodule.Advance(time.Minute) // past the last send's cooldown
	tok := c.csrf("/.smsgate/login")
	expect(t, c.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if page := c.get("/.smsgate/verify"); !strings.Contains(page.body, "Trust this browser for 30 days") {
		t.Fatalf("the verify page offers no trust:\n%s", page.body)
	}
	form := url.Values{"code": {s.lastCode()}, "csrf": {tok}}
	if trust {
		form.Set("remember", "1")
	}
	expect(t, c.post("/.smsgate/verify", form), http.StatusSeeOther, "/")
}

// TestTrustedBrowser: a trusted browser whose session expired gets a new
// one without a code, as strong and as old as the code that earned it (so
// a max_age route still asks for a code); a browser not trusted does not;
// the devices page lists and ends trusts; signing out everywhere ends them all.
func TestTrustedBrowser(t *testing.T) {
	s := startSite(t, trustSite)
	trusted, plain := newClient(t, ""), newClient(t, "")
	signInTrusting(t, s, trusted, true)
	signInTrusting(t, s, plain, false)
	if trusted.cookie("smsgate_trust") == "" || plain.cookie("smsgate_trust") != "" {
		t.Fatal("the trust cookie went to the wrong browser")
	}

	if res := trusted.get("/admin"); res.StatusCode != http.StatusOK || res.body != "admin carol" {
		t.Fatalf("a fresh session on the max_age route: %d %q", res.StatusCode, res.body)
	}
	caddymodule.Advance(2 * time.Hour) // both sessions are over
	expect(t, trusted.get("/.smsgate/login?rd=/"), http.StatusSeeOther, "/")
	if res := trusted.get("/"); res.StatusCode != http.StatusOK || res.body != "Hello, carol (sms)" {
		t.Fatalf("a trusted browser after its session expired: %d %q", res.StatusCode, res.body)
	}
	if res := plain.get("/.smsgate/login?rd=/"); res.StatusCode != http.StatusOK || !strings.Contains(res.body, `name="username"`) {
		t.Fatalf("a browser not trusted: %d\n%s", res.StatusCode, res.body)
	}
	// The stricter route wants a code entered within 15 minutes: the trust
	// (earned two hours ago) does not give one.
	if res := trusted.get("/admin"); res.StatusCode == http.StatusOK {
		t.Fatalf("a trusted browser passed max_age: %q", res.body)
	}
	if res := trusted.get("/.smsgate/login?rd=/admin"); res.StatusCode != http.StatusOK || !strings.Contains(res.body, `name="username"`) {
		t.Fatalf("the login for a max_age route, from a trusted browser: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Listed on the devices page, and ended there.
	other := newClient(t, "")
	signInTrusting(t, s, other, true)
	devices := other.get("/.smsgate/devices")
	ids := regexp.MustCompile(`name="trust" value="([A-Z0-9]+)"`).FindAllStringSubmatch(devices.body, -1)
	if len(ids) != 2 || !strings.Contains(devices.body, "Trusted browsers") {
		t.Fatalf("the devices page lists %d trusted browsers, want 2:\n%s", len(ids), devices.body)
	}
	tok := csrfField.FindStringSubmatch(devices.body)[1]
	if res := other.post("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {ids[1][1]}, "csrf": {tok}}); res.StatusCode != http.StatusOK ||
		len(regexp.MustCompile(`name="trust" value=`).FindAllString(res.body, -1)) != 1 {
		t.Fatalf("ending a trust: %d\n%s", res.StatusCode, res.body)
	}
	caddymodule.Advance(2 * time.Hour)
	if res := other.get("/.smsgate/login?rd=/"); res.StatusCode != http.StatusOK {
		t.Fatalf("an ended trust still signs in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Signing out everywhere ends every session and every trust.
	signInTrusting(t, s, other, false)
	tok = other.csrf("/.smsgate/devices")
	if res := other.post("/.smsgate/devices", url.Values{"action": {"signout-all"}, "csrf": {tok}}); res.StatusCode != http.StatusOK {
		t.Fatalf("signing out everywhere: %d", res.StatusCode)
	}
	caddymodule.Advance(3 * time.Second) // past the revocation poll
	if res := trusted.get("/"); res.StatusCode == http.StatusOK {
		t.Fatal("a session lived through a sign-out everywhere")
	}
	if res := trusted.get("/.smsgate/login?rd=/"); res.StatusCode != http.StatusOK || trusted.cookie("smsgate_trust") != "" {
		t.Fatalf("a trust lived through a sign-out everywhere: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestTrustCookieAndAdminRevoke: the trust cookie is a bearer token like
// the session: a client that sends it on an app's path does not hand it to
// the app. An admin's revoke ends trusts, and the devices page stops
// listing them.
func TestTrustCookieAndAdminRevoke(t *testing.T) {
	s := startSite(t, strings.Replace(trustSite, `respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"`,
		`respond "Hello, {http.auth.user.id} cookies=[{http.request.header.Cookie}]"`, 1))
	c := newClient(t, "")
	signInTrusting(t, s, c, true)
	trust := c.cookie("smsgate_trust")
	c.setCookie("smsgate_trust", trust) // on every path, not only the gate's
	c.setCookie("app_pref", "dark")
	res := c.get("/")
	if res.StatusCode != http.StatusOK || strings.Contains(res.body, "smsgate_") || !strings.Contains(res.body, "app_pref=dark") {
		t.Fatalf("the app saw: %d %q", res.StatusCode, res.body)
	}
	if page := c.get("/.smsgate/devices"); !strings.Contains(page.body, "Trusted browsers") {
		t.Fatalf("the devices page lists no trust:\n%s", page.body)
	}
	if st, body := admin(t, "POST", "/smsgate/revoke", `{"realm":"localhost","user":"carol"}`); st != http.StatusOK {
		t.Fatalf("revoke: %d %s", st, body)
	}
	caddymodule.Advance(3 * time.Second) // every gate sees a revocation within 2 s
	expect(t, c.get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	signInTrusting(t, s, c, false)
	if page := c.get("/.smsgate/devices"); strings.Contains(page.body, "Trusted browsers") {
		t.Fatalf("after the admin's revoke, the devices page still lists a trust:\n%s", page.body)
	}
}
