package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// windowUser and windowAdmin are the user and the admin of
// TestARevocationBetweenTheCheckAndTheChangeStopsIt: their requests are
// held (its sitetest.AddHold) once their revocation was read.
const windowUser, windowAdmin = "winnie", "wolf"

// TestARevocationBetweenTheCheckAndTheChangeStopsIt: through a real
// Caddy, on Badger and on Redis, a POST of a session is held right after
// the store said the session lives (its revocation read: liveChange),
// before its change is written; the user's revocation is written then,
// straight into the store, as another instance's sign-out everywhere or
// revoke lands in that round trip (attack34b measured 8–11 ms; this
// gate's cache learns nothing of it), and the POST let go. Each change —
// winnie's removal of her other phone and renewal of her recovery codes
// on the devices page, the admin wolf's invite for wilma and reset of her
// on the console — is refused (303 to sign in again, as for a session
// ended before its POST) and leaves the users as they were: the check is
// made again in the change's own write (store.Guard). Before, the removal
// and the reset were made on a session already ended (200, the phone
// gone; 303 back to the console, wilma's phone gone); the renewal and the
// invite, which check the session again once written and undo, were
// undone (the invite answered 403 "No invite link was made"). And a
// record of hers that changed meanwhile but ends nothing (moved to an
// instant before her session) refuses the change too, her session live:
// 503, try again, not a sign-in (endedMeanwhile asks the store again).
func TestARevocationBetweenTheCheckAndTheChangeStopsIt(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			revokedBetween(t, kind)
		})
	}
}

// revokedBetween is TestARevocationBetweenTheCheckAndTheChangeStopsIt on
// the store kind.
func revokedBetween(t *testing.T, kind string) {
	s := startWindowSite(t, kind, windowAdmin, [2]string{windowUser, "+14155550101"}, [2]string{windowUser, "+14155550102"}, [2]string{windowAdmin, "+14155550103"}, [2]string{"wilma", "+14155550104"})
	for _, who := range []string{windowUser, windowAdmin} {
		sitetest.AddHold(t, s.dir, sitetest.Hold{Of: who, Op: "read", Key: endkeys.User("localhost", who)})
	}
	users, other := s.users, s.secondPhone()
	wilma := "/.smsgate/admin/user?name=wilma"
	for _, change := range []struct {
		name, user, path string
		form             url.Values
	}{
		{"remove a phone", windowUser, "/.smsgate/devices", url.Values{"action": {"remove"}, "device": {other}, "confirm": {"1"}}},
		{"renew recovery codes", windowUser, "/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}}},
		{"mint an invite", windowAdmin, wilma, url.Values{"action": {"invite"}}},
		{"reset a user", windowAdmin, wilma, url.Values{"action": {"reset"}, "confirm": {"1"}}},
	} {
		c := s.signIn(t, change.user)
		if change.user == windowAdmin {
			sitetest.Expect(t, c.Get(wilma), http.StatusOK, "")
		}
		// Held at liveChange's read.
		res, before := s.revokedWhileHeld(t, c, change.path, change.form, "", change.user, s.Now().Add(time.Second))
		s.Advance(time.Minute) // her next sign-in is not born ended (bornEnded)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/.smsgate/login" {
			t.Errorf("%s, the session revoked between its check and its change: %d %s, want 303 to the sign-in", change.name, res.StatusCode, res.Header.Get("Location"))
		}
		if after := users(); after != before {
			t.Errorf("%s, the session revoked between its check and its change, changed the users:\nbefore %s\nafter  %s", change.name, before, after)
		}
		if minted := s.LogEntries("admin_invites"); len(minted) > 0 {
			t.Errorf("%s: a revoked admin minted an invite: %v", change.name, minted)
		}
	}

	// Her revocation record moved meanwhile to an instant before her
	// session (an end of the sessions pushed off her list, say): the
	// change is refused all the same (its guard's record changed), but
	// her session lives: told to try again (503), not sent to sign in.
	signedIn := s.Now()
	c := s.signIn(t, windowUser)
	res, before := s.revokedWhileHeld(t, c, "/.smsgate/devices", url.Values{"action": {"rename"}, "device": {other}, "name": {"Mine"}}, "", windowUser, signedIn.Add(-time.Second))
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.Text, "your account changed meanwhile") {
		t.Errorf("a rename whose guard's record changed, her session still live: %d %s %s, want 503 saying her change was not made", res.StatusCode, res.Header.Get("Location"), res.Text)
	}
	if after := users(); after != before {
		t.Errorf("a rename whose guard's record changed was made:\nbefore %s\nafter  %s", before, after)
	}
	sitetest.ExpectBody(t, c.Get("/"), "Hello, "+windowUser+"!")
}
