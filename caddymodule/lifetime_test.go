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
