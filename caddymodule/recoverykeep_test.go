package caddymodule_test

import (
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestHerCodesRenewedAfterTheLostPhonesRemovalWork: alice loses her
// phone, signs in with a code of the set that phone's session made,
// removes the lost phone on the devices page (her session kept) and makes
// new codes there, as the page asks her to. Her new codes sign her in,
// and the thief's session the lost phone earned ended. On Badger and
// Redis, through a real Caddy.
func TestHerCodesRenewedAfterTheLostPhonesRemovalWork(t *testing.T) {
	// The devices page's removal only: the admin's keeps no session.
	eachRemoval(t, "", func(t *testing.T, by string, s *sitetest.Site, lost, kept string, _ func(*sitetest.Site) string) {
		thief := sitetest.NewClient(t, "alice")
		signInWith(t, s, thief, lost, false)
		codes := renew(t, thief)
		her := recoveryBrowser(t, s, codes[0])
		removePhone(t, s, by, her, lost)
		sitetest.ExpectBody(t, her.Get("/"), "Hello, alice!")
		if res := thief.Get("/"); res.StatusCode == 200 {
			t.Error("the lost phone's session outlived its removal from her recovery session")
		}
		fresh := renew(t, her)
		if !recoverySignIn(t, s, fresh[0]) {
			t.Error("a code of the set she made after removing her lost phone signs nobody in")
		}
	}, "devices page")
}

// TestRemovingTheLostLastPhoneFromARecoverySessionKeepsHerIn: with
// allow_remove_last, alice (one phone, codes she renewed with it) loses
// the phone, signs in with a code, and removes the lost phone first, as
// the page lets her. Her session stays, so that she can add her new
// phone; a recovery session of another browser (the thief's, with a code
// of the same set) ends. The admin then removes the lost phone too (the
// same removal asked again): her session still stays, the thief's stays
// ended, and she adds her new phone from it. On Badger and Redis,
// through a real Caddy. (Before: her session named the phone, and ended:
// she was locked out; keeps13: the admin's removal asked again, an end
// without Keep, signed her out.)
func TestRemovingTheLostLastPhoneFromARecoverySessionKeepsHerIn(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tallow_remove_last\n")
		lost := addUser(t, s, "alice", "+14155552671")
		alice := sitetest.NewClient(t, "alice")
		signInWith(t, s, alice, lost, false)
		codes := renew(t, alice)
		thief := recoveryBrowser(t, s, codes[1])
		her := recoveryBrowser(t, s, codes[0])
		removePhone(t, s, "devices page", her, lost)
		for _, again := range []bool{false, true} {
			if again {
				removeAsAdmin(t, s, "alice", lost)
				s.Advance(2 * time.Second) // past the revocation log's poll
			}
			if res := her.Get("/"); res.StatusCode != 200 {
				t.Errorf("removed again %v: her recovery session ended with the removal of her lost last phone: %d %.80q", again, res.StatusCode, res.Text)
			}
			if res := thief.Get("/"); res.StatusCode == 200 {
				t.Errorf("removed again %v: another recovery session of the lost phone's set outlived its removal", again)
			}
		}
		// Her kept session names the lost phone, gone from her list: it
		// still adds her new phone (gap14: another session naming a
		// device gone from her list adds none).
		if added := addPhone(t, s, her, "+14155559009", "New"); !phoneSignsIn(t, s, added) {
			t.Error("the new phone her kept recovery session added signs her in no more")
		}
	})
}
