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
func signInTrusting(t *testing.T, s *sitetest.Site, c *sitetest.Client, trust bool) {
	t.Helper()
	s.Advance(time.Minute) // past the last send's cooldown
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if page := c.Get("/.smsgate/verify"); !strings.Contains(page.Text, "Trust this browser for 30 days") {
		t.Fatalf("the verify page offers no trust:\n%s", page.Text)
	}
	form := url.Values{"code": {s.LastCode()}, "csrf": {tok}}
	if trust {
		form.Set("remember", "1")
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", form), http.StatusSeeOther, "/")
}

// TestTrustedBrowser: a trusted browser whose session expired gets a new
// one without a code, as strong and as old as the code that earned it (so
// a max_age route still asks for a code); a browser not trusted does not;
// the devices page lists and ends trusts; signing out everywhere ends them all.
func TestTrustedBrowser(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, trustSite)
	trusted, plain := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	signInTrusting(t, s, trusted, true)
	signInTrusting(t, s, plain, false)
	if trusted.Cookie("smsgate_trust") == "" || plain.Cookie("smsgate_trust") != "" {
		t.Fatal("the trust cookie went to the wrong browser")
	}

	if res := trusted.Get("/admin"); res.StatusCode != http.StatusOK || res.Text != "admin carol" {
		t.Fatalf("a fresh session on the max_age route: %d %q", res.StatusCode, res.Text)
	}
	s.Advance(2 * time.Hour) // both sessions are over
	sitetest.Expect(t, trusted.Get("/.smsgate/login?rd=/"), http.StatusSeeOther, "/")
	if res := trusted.Get("/"); res.StatusCode != http.StatusOK || res.Text != "Hello, carol (sms)" {
		t.Fatalf("a trusted browser after its session expired: %d %q", res.StatusCode, res.Text)
	}
	if res := plain.Get("/.smsgate/login?rd=/"); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `name="username"`) {
		t.Fatalf("a browser not trusted: %d\n%s", res.StatusCode, res.Text)
	}
	// The stricter route wants a code entered within 15 minutes: the trust
	// (earned two hours ago) does not give one.
	if res := trusted.Get("/admin"); res.StatusCode == http.StatusOK {
		t.Fatalf("a trusted browser passed max_age: %q", res.Text)
	}
	if res := trusted.Get("/.smsgate/login?rd=/admin"); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `name="username"`) {
		t.Fatalf("the login for a max_age route, from a trusted browser: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Listed on the devices page, and ended there.
	other := sitetest.NewClient(t, "")
	signInTrusting(t, s, other, true)
	devices := other.Get("/.smsgate/devices")
	ids := regexp.MustCompile(`name="trust" value="([A-Z0-9]+)"`).FindAllStringSubmatch(devices.Text, -1)
	if len(ids) != 2 || !strings.Contains(devices.Text, "Trusted browsers") {
		t.Fatalf("the devices page lists %d trusted browsers, want 2:\n%s", len(ids), devices.Text)
	}
	tok := sitetest.CSRFField.FindStringSubmatch(devices.Text)[1]
	// This browser's own (the newest): it ends with its sessions, this
	// one's too (attack13), and the page says so.
	if res := other.Post("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {ids[1][1]}, "csrf": {tok}}); res.StatusCode != http.StatusOK ||
		!strings.Contains(res.Text, "You are signed out") {
		t.Fatalf("ending this browser's trust: %d\n%s", res.StatusCode, res.Text)
	}
	if res := other.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("signed in after ending the trust its session made: %q", res.Text)
	}
	s.Advance(2 * time.Hour)
	if res := other.Get("/.smsgate/login?rd=/"); res.StatusCode != http.StatusOK {
		t.Fatalf("an ended trust still signs in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Signing out everywhere ends every session and every trust.
	signInTrusting(t, s, other, false)
	tok = other.CSRF("/.smsgate/devices")
	if res := other.Post("/.smsgate/devices", url.Values{"action": {"signout-all"}, "confirm": {"1"}, "csrf": {tok}}); res.StatusCode != http.StatusOK {
		t.Fatalf("signing out everywhere: %d", res.StatusCode)
	}
	s.Advance(3 * time.Second) // past the revocation poll
	if res := trusted.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatal("a session lived through a sign-out everywhere")
	}
	if res := trusted.Get("/.smsgate/login?rd=/"); res.StatusCode != http.StatusOK || trusted.Cookie("smsgate_trust") != "" {
		t.Fatalf("a trust lived through a sign-out everywhere: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestTrustCookieAndAdminRevoke: the trust cookie is a bearer token like
// the session: a client that sends it on an app's path does not hand it to
// the app. An admin's revoke ends trusts, and the devices page stops
// listing them.
func TestTrustCookieAndAdminRevoke(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, strings.Replace(trustSite, `respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"`,
		`respond "Hello, {http.auth.user.id} cookies=[{http.request.header.Cookie}]"`, 1))
	c := sitetest.NewClient(t, "")
	signInTrusting(t, s, c, true)
	trust := c.Cookie("smsgate_trust")
	c.SetCookie("smsgate_trust", trust) // on every path, not only the gate's
	c.SetCookie("app_pref", "dark")
	res := c.Get("/")
	if res.StatusCode != http.StatusOK || strings.Contains(res.Text, "smsgate_") || !strings.Contains(res.Text, "app_pref=dark") {
		t.Fatalf("the app saw: %d %q", res.StatusCode, res.Text)
	}
	if page := c.Get("/.smsgate/devices"); !strings.Contains(page.Text, "Trusted browsers") {
		t.Fatalf("the devices page lists no trust:\n%s", page.Text)
	}
	if st, body := sitetest.Admin(t, "POST", "/smsgate/revoke", `{"realm":"localhost","user":"carol"}`); st != http.StatusOK {
		t.Fatalf("revoke: %d %s", st, body)
	}
	s.Advance(3 * time.Second) // every gate sees a revocation within 2 s
	sitetest.Expect(t, c.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	signInTrusting(t, s, c, false)
	if page := c.Get("/.smsgate/devices"); strings.Contains(page.Text, "Trusted browsers") {
		t.Fatalf("after the admin's revoke, the devices page still lists a trust:\n%s", page.Text)
	}
}
