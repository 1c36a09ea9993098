package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestRecoveryCodesTheLostPhoneMadeEndWithIt: a thief holding alice's
// password and her phone signs in with its code and makes new recovery
// codes (a step-up with a text to that phone; her phones are told
// nothing). Alice removes the lost phone (devices page, admin API): his
// session ends, and the codes his session made must end with it, or one
// of them signs him in again. A set she made with the phone she keeps
// stays. On Badger and Redis, through a real Caddy. (Before, the thief's
// recovery code answered 303 to / and "Hello, alice!" after the removal.)
func TestRecoveryCodesTheLostPhoneMadeEndWithIt(t *testing.T) {
	eachRemoval(t, "", func(t *testing.T, by string, s *sitetest.Site, lost, kept string, _ func(*sitetest.Site) string) {
		thief, alice := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signInWith(t, s, thief, lost, false)
		stolen := renew(t, thief)
		signInWith(t, s, alice, kept, false)
		removePhone(t, s, by, alice, lost)
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief's session outlived the removal: %s", res.Text)
		}
		if recoverySignIn(t, s, stolen[0]) {
			t.Fatal("a recovery code the thief made with the removed phone signed him in again")
		}

		// Her own set, made with the phone she keeps, outlives the
		// removal of another.
		mine := renew(t, alice)
		other := addUser(t, s, "alice", "+14155552673")
		removePhone(t, s, by, alice, other)
		if !recoverySignIn(t, s, mine[0]) {
			t.Fatal("a recovery code she made with the phone she keeps no longer signs her in after another phone's removal")
		}
	})
}

// TestNewRecoveryCodesAreToldToThePhones: making new recovery codes
// (which ends the old ones) is told to the user's phones, as adding or
// removing a device is: a thief holding her password and a phone who
// makes a set of his own does not go unseen. (Before, no text.)
func TestNewRecoveryCodesAreToldToThePhones(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice"}, "")
	lost := addUser(t, s, "alice", "+14155552671")
	addUser(t, s, "alice", "+14155552672")
	thief := sitetest.NewClient(t, "alice")
	signInWith(t, s, thief, lost, false)
	before := len(s.Notices())
	renew(t, thief)
	notices := s.Notices()[before:]
	if len(notices) != 2 || !strings.Contains(notices[0], "new recovery codes were made") {
		t.Fatalf("notices after new recovery codes: %q", notices)
	}
}

// recoverySignIn reports whether code signs a new browser in as alice.
func recoverySignIn(t *testing.T, s *sitetest.Site, code string) bool {
	t.Helper()
	s.Advance(time.Minute)
	c := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
	c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {c.CSRF("/.smsgate/verify")}})
	return c.Get("/").StatusCode == http.StatusOK
}
