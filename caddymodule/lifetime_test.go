package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASessionLastsTheGatesLifetime: two gates of one realm on one store
// (the admin wrote the realm in both, to share sessions), one with
// session_lifetime 12h, one with 1h for its more sensitive app. A session
// signed in at the first passed the second for 12 hours: its token's own
// expiry was believed, not the gate's lifetime (the same after a reload
// that shortened session_lifetime). Each gate now ends a session at its
// own lifetime from the sign-in.
func TestASessionLastsTheGatesLifetime(t *testing.T) {
	sitetest.Parallel(t)
	gate := func(lifetime string) string {
		return `smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		session_lifetime ` + lifetime + `
		store badger {DIR}
		provider log
	}`
	}
	s, a, b := twoGates(t, gate("12h"), gate("1h"))

	c := sitetest.NewClient(t, "")
	tok := sitetest.CSRFField.FindStringSubmatch(c.GetURL(a("/.smsgate/login")).Text)[1]
	c.PostURL(a("/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	c.PostURL(a("/.smsgate/verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	sitetest.ExpectBody(t, c.GetURL(a("/")), "a carol")
	sitetest.ExpectBody(t, c.GetURL(b("/")), "b carol") // and cached there

	s.Advance(59 * time.Minute)
	sitetest.ExpectBody(t, c.GetURL(b("/")), "b carol")
	s.Advance(2 * time.Minute)
	if res := c.GetURL(b("/")); res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "/.smsgate/") {
		t.Fatalf("gate b (session_lifetime 1h) admits a session of 1h1m: %d %s", res.StatusCode, res.Text)
	}
	sitetest.ExpectBody(t, c.GetURL(a("/")), "a carol") // a's 12h still hold at a
}

// TestATrustLastsWhatRememberAllowsNow: the admin shortens remember from
// 30d to 1d (a reload). A browser trusted 2 days ago under 30d went on
// signing in without a code for the rest of its 30 days: its token's
// expiry was believed, not the remember now configured. It asks for a
// code now; under the 30d it skipped it.
func TestATrustLastsWhatRememberAllowsNow(t *testing.T) {
	sitetest.Parallel(t)
	store := "store badger " + t.TempDir()
	s := textSite(t, store, []string{"alice"}, "\t\tremember 30d\n\t\tsession_lifetime 1h\n")
	alice := sitetest.NewClient(t, "alice")
	addUser(t, s, "alice", "+14155552671")
	tok := codeSent(t, alice)
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")

	s.Advance(48 * time.Hour)
	alice.SetCookie("smsgate_session", "")
	sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/") // trusted: no code
	alice.SetCookie("smsgate_session", "")

	s = textSite(t, store, []string{"alice"}, "\t\tremember 1d\n\t\tsession_lifetime 1h\n")
	if res := alice.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
		t.Fatal("a browser trusted 2 days ago signed in without a code under remember 1d")
	}
}

// TestAGatesRememberBoundsTheTrustsSessionsItTakes, on Badger and a real
// Redis: one site, two gates of its realm, the site's with remember 30d
// and the /admin gate's with 1d or off. A browser trusted at the site's
// gate signs in there by its trust, no code, once its session is over:
// that session counts at the admin's gate only where the admin's gate
// would have honoured the trust itself (1d: a 23-hour-old trust's, not a
// 2-day-old one's; off: none), and at the site's gate always; the code's
// own session counts at both. Before (attack32's F1), the admin's gate
// took the session of a 2-day-old trust (200 "admin carol"), under
// remember off too.
func TestAGatesRememberBoundsTheTrustsSessionsItTakes(t *testing.T) {
	sitetest.Parallel(t)
	for _, on := range []string{"badger", "redis"} {
		for _, admin := range []string{"1d", "off"} {
			t.Run(on+"/remember "+admin, func(t *testing.T) {
				store := storeOn(t, on)
				s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			path_prefix /admin/.smsgate/
			remember `+admin+`
			store `+store+`
			provider log
		}
		respond "admin {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			remember 30d
			store `+store+`
			provider log
		}
		respond "Hello {http.auth.user.id}"
	}
}`)
				c := sitetest.NewClient(t, "")
				tok := c.CSRF("/.smsgate/login")
				sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
				sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
				sitetest.ExpectBody(t, c.Get("/admin/x"), "admin carol") // the code's session

				byTrust := func(age string, adminTakes bool) {
					t.Helper()
					if res := c.Get("/admin/x"); res.StatusCode == http.StatusOK {
						t.Fatalf("premise: the session is over at %s: %d %q", age, res.StatusCode, res.Text)
					}
					sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/") // trusted at the site's gate: no code
					sitetest.ExpectBody(t, c.Get("/"), "Hello carol")                             // where the trust was made
					if res := c.Get("/admin/x"); (res.StatusCode == http.StatusOK) != adminTakes {
						t.Errorf("remember %s: the session of a %s trust at /admin/x: %d %q, want it taken %v", admin, age, res.StatusCode, res.Text, adminTakes)
					}
				}
				s.Advance(23 * time.Hour) // the session (12 h) is over
				byTrust("23-hour-old", admin == "1d")
				s.Advance(25 * time.Hour) // and so is the next one
				byTrust("2-day-old", false)
			})
		}
	}
}
