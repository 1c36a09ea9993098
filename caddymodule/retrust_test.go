package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// A re-trust (a code sign-in with "remember" in a browser already trusted:
// the console's step-up, the devices page's) keeps the browser's trust,
// renewed (session.Manager.TrustHeld, attack38 F1): everything that named it
// before still names it, and ends with it.

// stepUpRemembered has c, signed in as an admin, open the console for ned
// an hour on (past its step-up's age), and prove it again with a code and
// "remember this browser".
func stepUpRemembered(t *testing.T, s *sitetest.Site, c *sitetest.Client) {
	t.Helper()
	s.Advance(time.Hour)
	sitetest.Expect(t, c.Get("/.smsgate/admin/user?name=ned"), http.StatusSeeOther, "/.smsgate/verify")
	tok := c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/.smsgate/admin/user?name=ned")
}

// copyOfTrust is a browser holding a copy of c's trust and known-browser
// cookies, signed in by that trust (without a code).
func copyOfTrust(t *testing.T, c *sitetest.Client) *sitetest.Client {
	t.Helper()
	copied := sitetest.NewClient(t, c.User)
	copied.SetCookieFor(copied.Base()+"/.smsgate/", pages.TrustCookie, c.Cookie(pages.TrustCookie))
	copied.SetCookie("smsgate_known", c.Cookie("smsgate_known"))
	sitetest.Expect(t, copied.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
	sitetest.Expect(t, copied.Get("/"), http.StatusOK, "")
	return copied
}

// signsInByTrust says whether a browser holding only the trust cookie
// token (of user) is signed in by it, without a code.
func signsInByTrust(t *testing.T, user, token string) bool {
	t.Helper()
	c := sitetest.NewClient(t, user)
	c.SetCookieFor(c.Base()+"/.smsgate/", pages.TrustCookie, token)
	res := c.Get("/.smsgate/login?rd=%2F")
	return res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/"
}

// TestEndingAReTrustedBrowserEndsAllItWasTrustedFor (attack38 F1a): a
// thief holding mallory's account (her password, phished codes) signs in
// with "remember this browser", mints at the console an invite for mal,
// and signs in a second browser with a copy of his trust cookie. An hour
// on, the console asks him for a new code: he gives one, "remember"
// ticked again. mallory then ends his browser, by "Stop trusting" the one
// trusted browser her devices page lists, or an admin ends his session
// (the admin API's sessions/end, the console's): his session, the copy's,
// and mal's link end, and his trust signs in no more. And the step-up
// left one trust, whose earlier cookie no longer signs in. On Badger and
// Redis, through a real Caddy. (Before, the step-up replaced his trust by
// another: the end of the new one missed the copy's session and mal's
// link, which named the old one.)
func TestEndingAReTrustedBrowserEndsAllItWasTrustedFor(t *testing.T) {
	sitetest.Parallel(t)
	// Each store's part runs the two ends one after the other, each on a
	// site of its own: one level of parallel parts, which queue once for
	// the package's slots (speed40b: as two subtests around each store's
	// parts, the parts queued behind every waiting test a second time).
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		for _, end := range []string{"untrust", "sessions/end"} {
			t.Run(strings.ReplaceAll(end, "/", "-"), func(t *testing.T) {
				s := malloryAdminSite(t, storeLine, "\t\tremember 30d\n")
				thief := sitetest.NewClient(t, "mallory")
				signInRemembering(t, s, thief, true)
				malToken := mintAt(t, s, thief, "mal")
				copied := copyOfTrust(t, thief)
				firstTrust := thief.Cookie(pages.TrustCookie)

				stepUpRemembered(t, s, thief)
				if thief.Cookie(pages.TrustCookie) == firstTrust {
					t.Fatalf("the step-up renewed no trust cookie")
				}
				if signsInByTrust(t, "mallory", firstTrust) {
					t.Errorf("the trust cookie the step-up replaced still signs in")
				}
				sitetest.Expect(t, copied.Get("/"), http.StatusOK, "")

				s.Advance(time.Minute)
				owner := sitetest.NewClient(t, "mallory")
				signIn(t, s, owner)
				switch end {
				case "untrust":
					page := owner.Get("/.smsgate/devices")
					all := trustedBrowser.FindAllStringSubmatch(page.Text, -1)
					if len(all) != 1 {
						t.Fatalf("%d trusted browsers listed, want 1:\n%s", len(all), page.Text)
					}
					res := owner.Post("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {all[0][1]}, "csrf": {owner.CSRF("/.smsgate/devices")}})
					sitetest.ExpectBody(t, res, "no longer trusted")
				case "sessions/end":
					_, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=mallory", "")
					var list []struct {
						SID    string    `json:"sid"`
						Issued time.Time `json:"issued"`
						Where  struct {
							Trust string `json:"trust"`
						} `json:"where"`
					}
					if err := json.Unmarshal([]byte(out), &list); err != nil {
						t.Fatalf("mallory's sessions: %s", out)
					}
					// The newest of a trust: the step-up's (the thief's
					// now), not the copy's (an hour before) nor the owner's.
					sid, at := "", time.Time{}
					for _, l := range list {
						if l.Where.Trust != "" && l.Issued.After(at) {
							sid, at = l.SID, l.Issued
						}
					}
					if st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"mallory","id":%q}`, sid)); st != http.StatusOK {
						t.Fatalf("ending the thief's session: %d %s", st, out)
					}
				}
				for name, c := range map[string]*sitetest.Client{"the thief's": thief, "the trust copy's": copied} {
					if res := c.Get("/"); res.StatusCode == http.StatusOK {
						t.Errorf("%s session outlived the end of the browser's trust", name)
					}
				}
				if signsInByTrust(t, "mallory", thief.Cookie(pages.TrustCookie)) {
					t.Errorf("the thief's trust still signs in without a code")
				}
				if !inviteEnded(t, s, "mal", malToken) {
					t.Errorf("mal's link, minted in the browser before its step-up, still works")
				}
				sitetest.Expect(t, owner.Get("/"), http.StatusOK, "")
			})
		}
	})
}

// TestStopTrustingTheRowSeenBeforeAReTrust (attack38 F1b): mallory opens
// her devices page, which lists the thief's trusted browser; meanwhile
// the thief signs in again there with a code and "remember". Her "Stop
// trusting" of the row she saw ends his browser: his session, his trust,
// and the row (none listed after). On Badger and Redis, through a real
// Caddy. (Before, the re-trust had replaced the row's trust by another:
// her click ended nothing, and the page said "no longer trusted".)
func TestStopTrustingTheRowSeenBeforeAReTrust(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"mallory"}, "\t\tremember 30d\n"+limitsOff)
		addUser(t, s, "mallory", "+14155552671")
		thief := sitetest.NewClient(t, "mallory")
		tok := codeSent(t, thief)
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		firstTrust := thief.Cookie(pages.TrustCookie)

		s.Advance(time.Hour)
		owner := sitetest.NewClient(t, "mallory")
		signIn(t, s, owner)
		page := owner.Get("/.smsgate/devices")
		seen := trustedBrowser.FindAllStringSubmatch(page.Text, -1)
		if len(seen) != 1 {
			t.Fatalf("%d trusted browsers listed, want 1:\n%s", len(seen), page.Text)
		}
		csrf := owner.CSRF("/.smsgate/devices")

		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F.smsgate%2Fdevices"), http.StatusSeeOther, "/.smsgate/verify")
		tok = thief.CSRF("/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/.smsgate/devices")
		if thief.Cookie(pages.TrustCookie) == firstTrust {
			t.Fatalf("the re-trust renewed no trust cookie")
		}

		res := owner.Post("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {seen[0][1]}, "csrf": {csrf}})
		sitetest.ExpectBody(t, res, "no longer trusted")
		if left := trustedBrowser.FindAllStringSubmatch(res.Text, -1); len(left) != 0 {
			t.Errorf("%d trusted browsers still listed after she stopped trusting the one she saw", len(left))
		}
		if got := thief.Get("/"); got.StatusCode == http.StatusOK {
			t.Errorf("the thief's browser is still signed in")
		}
		if signsInByTrust(t, "mallory", thief.Cookie(pages.TrustCookie)) {
			t.Errorf("the thief's trust still signs in without a code")
		}
		sitetest.Expect(t, owner.Get("/"), http.StatusOK, "")
	})
}
