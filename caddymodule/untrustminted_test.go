package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// trustedBrowser finds a trusted browser's ID on the devices page.
var trustedBrowser = regexp.MustCompile(`name="trust" value="([^"]+)"`)

// TestStoppingTrustingAnAdminsBrowserEndsTheInvitesItMinted (attack37
// F2): a thief holding mallory's account (her password, a phished code)
// signs in, his browser trusted ("remember this browser"), and mints at
// the console an invite for mal; mallory, in her own browser, mints one
// for ned, sees the strange browser on her devices page and stops
// trusting it. The thief is signed out, mal's link is ended by an
// administrator, ned's still works, and the audit of the end
// (browser_untrusted) names invites_ended 1, as the console's "End this
// session" does. On Badger and Redis, through a real Caddy. (Before, his
// trust and sessions ended and his link still enrolled.)
func TestStoppingTrustingAnAdminsBrowserEndsTheInvitesItMinted(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := malloryAdminSite(t, storeLine, "\t\tremember 30d\n")
		thief := sitetest.NewClient(t, "mallory")
		signInRemembering(t, s, thief, true)
		malToken := mintAt(t, s, thief, "mal")

		s.Advance(time.Minute) // past the first code's cooldown
		owner := sitetest.NewClient(t, "mallory")
		signIn(t, s, owner)
		nedToken := mintAt(t, s, owner, "ned")
		stopTrustingTheThief(t, owner, thief)
		if !inviteEnded(t, s, "mal", malToken) {
			t.Errorf("mal's link, minted in a session of the browser she stopped trusting, still works")
		}
		if inviteEnded(t, s, "ned", nedToken) {
			t.Errorf("ned's link, minted in her own session, ended")
		}
		if ends := s.LogEntries("browser_untrusted"); len(ends) != 1 || ends[0]["invites_ended"] != float64(1) {
			t.Errorf("the audit of the end: %v; want one naming invites_ended 1", ends)
		}
	})
}

// malloryAdminSite is a site (with the options more) of mallory, an admin
// with a phone, and of mal and ned, who have none.
func malloryAdminSite(t *testing.T, storeLine, more string) *sitetest.Site {
	t.Helper()
	s := textSite(t, storeLine, []string{"mallory", "mal", "ned"}, more+"\t\tadmins mallory\n"+limitsOff)
	addUser(t, s, "mallory", "+14155552671")
	return s
}

// stopTrustingTheThief has owner stop trusting the first trusted browser
// her devices page lists, the thief's: his session ends with it.
func stopTrustingTheThief(t *testing.T, owner, thief *sitetest.Client) {
	t.Helper()
	page := owner.Get("/.smsgate/devices")
	m := trustedBrowser.FindStringSubmatch(page.Text)
	if m == nil {
		t.Fatalf("no trusted browser listed:\n%s", page.Text)
	}
	form := url.Values{"action": {"untrust"}, "trust": {m[1]}, "csrf": {owner.CSRF("/.smsgate/devices")}}
	sitetest.Expect(t, owner.Post("/.smsgate/devices", form), http.StatusOK, "")
	if res := thief.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("the thief's session outlived the end of its trust")
	}
}
