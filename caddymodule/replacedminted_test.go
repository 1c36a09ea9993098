package caddymodule_test

import (
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAReplacedSessionsInvitesEndWithIt (review38 F1): a thief holding a
// copy of mallory's session cookie mints at the console an invite for
// mal; mallory, in another browser, one for ned. alice then signs in in
// mallory's first browser (a shared computer), which replaces mallory's
// session there (walk38): mal's link, minted in it, is ended by an
// administrator, ned's still works, and the end is audited once as
// session_replaced, invites_ended 1. On Badger and Redis, through a real
// Caddy. (Before, the replaced session left mallory's list with mal's
// invite live, which no end of that session reached any more.)
func TestAReplacedSessionsInvitesEndWithIt(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := twoAdminsSite(t, storeLine, "")
		shared, other := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "mallory")
		signIn(t, s, shared)
		s.Advance(time.Minute) // past the first code's cooldown
		signIn(t, s, other)
		thief := sitetest.NewClient(t, "mallory")
		thief.SetCookie("smsgate_session", shared.Cookie("smsgate_session"))
		malToken := mintAt(t, s, thief, "mal")
		nedToken := mintAt(t, s, other, "ned")

		s.Advance(time.Minute)
		shared.User = "alice"
		signIn(t, s, shared)
		if res := thief.Get("/"); res.StatusCode == 200 {
			t.Fatal("the copy of mallory's replaced session still signs in")
		}
		expectMalsEnded(t, s, malToken, nedToken, "session_replaced", "in the session replaced", "in mallory's other session")
	})
}

// TestAnAdminsInviteOutlivesHerStepUp (lead, on review38 F1's merge):
// mallory mints at the console an invite for mal, then proves herself
// again in the same browser an hour on (a step-up, which replaces her
// session there): mal's link still works (its entry now names her new
// session, whose end by an admin would end it), and the replacement's
// audit ends no invite. On Badger and Redis, through a real Caddy.
// (fixr38 ended it at every step-up: an admin's invites died as she
// went on working at the console.)
func TestAnAdminsInviteOutlivesHerStepUp(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := twoAdminsSite(t, storeLine, "")
		mallory := sitetest.NewClient(t, "mallory")
		signIn(t, s, mallory)
		malToken := mintAt(t, s, mallory, "mal")
		stepUp(t, s, mallory, false)
		if inviteEnded(t, s, "mal", malToken) {
			t.Error("mal's link ended at mallory's step-up")
		}
		ends := s.LogEntries("session_replaced")
		if len(ends) != 1 || ends[0]["invites_ended"] != nil {
			t.Errorf("the step-up's audit: %v; want one session_replaced ending no invite", ends)
		}
	})
}
