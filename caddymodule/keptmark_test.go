package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestWhatTheThiefsKeptRecoverySessionAddsGoesWithTheNumber: a thief
// holding alice's password and her provisioned phone (the config's `user`
// line) adds his phone Y from its session, makes codes from Y's session,
// signs in with one of them, removes Y on the devices page (the removal
// keeps that recovery session), then adds a phone Z and makes new codes
// from it. The admin gives alice a new number and reloads: Z and the new
// codes go with the old number, as what Y's own session added or made
// would have (gap17). On Badger and Redis, through a real Caddy. (Before:
// Z named nothing and signed him in after the reload, and so did a code.)
func TestWhatTheThiefsKeptRecoverySessionAddsGoesWithTheNumber(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		user := func(number string) string {
			return "\t\tuser alice " + number + "\n\t\tallow_remove_last\n" + limitsOff
		}
		s := textSite(t, storeLine, []string{"alice"}, user("+14155552671"))
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		y := addPhone(t, s, thief, "+14155559001", "Y")
		fromY := sitetest.NewClient(t, "alice")
		signInWith(t, s, fromY, y, false)
		codes := renew(t, fromY)
		kept := recoveryBrowser(t, s, codes[0])
		removePhone(t, s, "devices page", kept, y)
		sitetest.ExpectBody(t, kept.Get("/"), "Hello, alice!")
		z := addPhone(t, s, kept, "+14155559002", "Z")
		fresh := renew(t, kept)

		s = textSite(t, keep(s), []string{"alice"}, user("+447400123456"))
		if phoneSignsIn(t, s, z) {
			t.Error("the phone the thief's kept recovery session added signed him in after the config took the number away")
		}
		if recoverySignIn(t, s, fresh[0]) {
			t.Error("a code the thief's kept recovery session made signed him in after the config took the number away")
		}
		if got := deviceNames(t, s); got != "" {
			t.Errorf("alice's devices after the reload: %q; want none", got)
		}
	})
}
