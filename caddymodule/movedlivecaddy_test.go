package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAStepUpLeavesTheAdminsLiveSessionOffTheSignedOutList (attack39c F2),
// real Caddy on Badger and Redis: mallory (an admin, session_lifetime 12h)
// mints an invite at t0, steps up at t0+11h (a new session S2; the invite
// moves into it keeping S1's issue time, session.MoveMinted), and at
// t0+13h is still signed in by S2. The admin API's sessions/signed-out
// must not list S2, her live session, as signed out (by S1's time it is
// past the lifetime): an admin reading it would end her live session
// (sessions/end of it) to end its invites. session.SignedOutMinted leaves
// out the live ones, for the API and the console alike.
func TestAStepUpLeavesTheAdminsLiveSessionOffTheSignedOutList(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := twoAdminsSite(t, storeLine, "")
		mallory := sitetest.NewClient(t, "mallory")
		signIn(t, s, mallory)
		mintAt(t, s, mallory, "mal")
		s.Advance(10 * time.Hour)
		stepUp(t, s, mallory, false) // +1h, then the step-up
		s2 := sessionID(t, mallory.Cookie("smsgate_session"))
		s.Advance(2 * time.Hour)
		sitetest.Expect(t, mallory.Get("/"), http.StatusOK, "")
		st, out := s.Admin("GET", "/smsgate/sessions/signed-out?realm=localhost&user=mallory", "")
		if st != http.StatusOK || strings.Contains(out, s2) {
			t.Errorf("mallory's live session %s, signed 2h ago, is listed as signed out: %d %s", s2[:8], st, out)
		}
	})
}
