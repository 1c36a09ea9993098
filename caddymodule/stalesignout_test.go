package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// stepUp has c, signed in, prove itself again with a code an hour on (the
// devices page's step-up), "remember this browser" ticked or not: its
// session is replaced (session.Manager.Replaced), its trust renewed under
// the same ID if remember.
func stepUp(t *testing.T, s *sitetest.Site, c *sitetest.Client, remember bool) {
	t.Helper()
	s.Advance(time.Hour)
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F.smsgate%2Fdevices"), http.StatusSeeOther, "/.smsgate/verify")
	tok := c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	form := url.Values{"code": {s.LastCode()}, "csrf": {tok}}
	if remember {
		form.Set("remember", "1")
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", form), http.StatusSeeOther, "/.smsgate/devices")
}

// TestAGivenUpCookieSignsNobodyOut (attack38b F1): alice signs in with
// "remember"; copies of her trust and session cookies are kept. She
// proves herself again with "remember" (her trust renewed under its ID,
// her session replaced), and again without (her session replaced, her
// trust held). mallory, another user of the site (his own password), puts in his browser one
// given-up copy at a time — her first trust cookie, her first session
// cookie, her second — and signs out: her browser stays signed in and
// her renewed trust still signs in. Her own sign-out then ends both. On
// Badger and Redis, through a real Caddy. Before, a sign-out took a trust
// ID from any cookie whose signature held: each copy signed her browser
// out (her trust ended, and every session it signed in or made).
func TestAGivenUpCookieSignsNobodyOut(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, alice := staleSignOutSite(t, storeLine)
		firstTrust, firstSession := alice.Cookie(pages.TrustCookie), alice.Cookie(pages.SessionCookie)
		stepUp(t, s, alice, true)
		secondSession := alice.Cookie(pages.SessionCookie)
		stepUp(t, s, alice, false)
		if alice.Cookie(pages.TrustCookie) == firstTrust || secondSession == firstSession || alice.Cookie(pages.SessionCookie) == secondSession {
			t.Fatalf("the step-ups renewed no cookie")
		}
		if signsInByTrust(t, "alice", firstTrust) {
			t.Fatalf("the given-up trust cookie still signs in")
		}

		for _, stale := range []struct{ what, name, token string }{
			{"her trust cookie before the re-trust", pages.TrustCookie, firstTrust},
			{"her session cookie before the re-trust", pages.SessionCookie, firstSession},
			{"her session cookie before the step-up", pages.SessionCookie, secondSession},
		} {
			strangerSignsOutWith(t, alice, stale.what, stale.name, stale.token)
		}
		ownSignOutEndsAll(t, alice)
	})
}

// TestAGivenUpKnownBrowserCookieSignsNobodyOut (attack39 F1): a sign-out
// ends the trusts its browser earned at every gate of the realm, named by
// the browser's ID in its known-browser cookie, which carries into each
// new one. alice signs in with "remember", and a copy of her known-browser
// cookie is kept at each turn: before her step-up; before her session
// expired and her trust signed her in again; before the admin revoked her
// and she signed in again with a code and "remember". After each, mallory,
// another user of the site (his own password), puts the copy in his
// browser and signs out: her browser stays signed in and her trust still
// signs in. Her own sign-out then ends both. On Badger and Redis, through
// a real Caddy. Before, a sign-out took the browser ID of any known-browser
// cookie whose signature held: each copy signed her browser out (every
// trust of that browser ended, and every session they signed in).
func TestAGivenUpKnownBrowserCookieSignsNobodyOut(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, alice := staleSignOutSite(t, storeLine)
		name := pages.KnownCookie
		if alice.Cookie(name) == "" {
			name = pages.HostPrefix + pages.KnownCookie
		}
		for _, turn := range []struct {
			what string
			then func()
		}{
			{"before her step-up", func() { stepUp(t, s, alice, true) }},
			{"before her session expired and her trust signed her in again", func() {
				s.Advance(13 * time.Hour) // past the session lifetime, 12h
				sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
			}},
			{"before the admin revoked her and she signed in again", func() {
				if st, out := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"alice"}`); st != http.StatusOK {
					t.Fatalf("revoke: %d %s", st, out)
				}
				s.Advance(time.Minute)
				signInRemembering(t, s, alice, true)
			}},
		} {
			copied := alice.Cookie(name)
			if copied == "" {
				t.Fatal("no known-browser cookie")
			}
			turn.then()
			if alice.Cookie(name) == copied {
				t.Fatalf("%s: her browser kept its known-browser cookie", turn.what)
			}
			sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")
			strangerSignsOutWith(t, alice, "her known-browser cookie "+turn.what, name, copied)
		}
		ownSignOutEndsAll(t, alice)
	})
}

// staleSignOutSite is a site remembering browsers 30 days, of alice and
// mallory (another user of the site: his own password), each with a
// phone, and alice's browser signed in with a code and "remember".
func staleSignOutSite(t *testing.T, storeLine string) (*sitetest.Site, *sitetest.Client) {
	t.Helper()
	s := textSite(t, storeLine, []string{"alice", "mallory"}, "\t\tremember 30d\n"+limitsOff)
	addUser(t, s, "alice", "+14155552671")
	addUser(t, s, "mallory", "+14155552672")
	alice := sitetest.NewClient(t, "alice")
	signInRemembering(t, s, alice, true)
	return s, alice
}

// strangerSignsOutWith has mallory, in a browser of his own, sign out with
// a copy of alice's cookie name (token; what says which, "her session
// cookie before the step-up"): alice's browser stays signed in, and her
// trust still signs in.
func strangerSignsOutWith(t *testing.T, alice *sitetest.Client, what, name, token string) {
	t.Helper()
	mallory := sitetest.NewClient(t, "mallory")
	csrf := sitetest.CSRFField.FindStringSubmatch(mallory.Get("/.smsgate/logout").Text)[1]
	if name == pages.TrustCookie {
		mallory.SetCookieFor(mallory.Base()+"/.smsgate/", name, token)
	} else {
		mallory.SetCookie(name, token)
	}
	if res := mallory.Post("/.smsgate/logout", url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusOK {
		t.Fatalf("mallory's sign-out with a copy of %s: %d", what, res.StatusCode)
	}
	if res := alice.Get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("a sign-out with a copy of %s signed alice's browser out: %d", what, res.StatusCode)
	}
	if !signsInByTrust(t, "alice", alice.Cookie(pages.TrustCookie)) {
		t.Fatalf("a sign-out with a copy of %s ended alice's trust", what)
	}
}

// ownSignOutEndsAll has alice sign out in her own browser: her trust
// signs in no more, and her browser is signed out.
func ownSignOutEndsAll(t *testing.T, alice *sitetest.Client) {
	t.Helper()
	csrf := sitetest.CSRFField.FindStringSubmatch(alice.Get("/.smsgate/logout").Text)[1]
	trust := alice.Cookie(pages.TrustCookie)
	sitetest.Expect(t, alice.Post("/.smsgate/logout", url.Values{"csrf": {csrf}}), http.StatusOK, "")
	if signsInByTrust(t, "alice", trust) {
		t.Fatalf("alice's own sign-out left her trust")
	}
	if res := alice.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("alice's own sign-out left her signed in")
	}
}
