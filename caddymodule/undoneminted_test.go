package caddymodule_test

import (
	"net/http"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnInviteMintedInASessionAnUndoneAppSignedInEndsWithIt (attack37): as
// TestASessionAnUndoneAppSignedInEndsWithIt, uma an admin: a thief signed
// in as her (S1) adds an authenticator app, its confirmation held once the
// app is written; the admin API ends S1; the thief signs in with the app
// in another browser (S2) and mints at the console an invite for mal. The
// confirmation goes on, finds S1 ended and undoes the app: S2 ends with
// it, and so does mal's link (an administrator ended it), audited as
// invites_ended. On Badger and Redis, through a real Caddy. (Before, the
// undo ended S2 (session.EndUndoneDevice) and left its invite enrolling.)
func TestAnInviteMintedInASessionAnUndoneAppSignedInEndsWithIt(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, other, _, confirm := undoneApp(t, storeLine, []string{undoneAdder, "mal"}, "\t\tadmins "+undoneAdder+"\n"+limitsOff)
		malToken := mintAt(t, s, other, "mal")
		sitetest.Expect(t, confirm.Release(t), http.StatusSeeOther, "/.smsgate/login")
		if res := other.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("signed in by an app whose adding was undone (its session ended): %s", res.Text)
		}
		if !inviteEnded(t, s, "mal", malToken) {
			t.Errorf("mal's link, minted in a session only the undone app earned, still works")
		}
		if ends := s.LogEntries("invites_ended"); len(ends) != 1 || ends[0]["invites_ended"] != float64(1) {
			t.Errorf("the audit of the end: %v; want one naming invites_ended 1", ends)
		}
	})
}
