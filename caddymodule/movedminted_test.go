package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestStopTrustingEndsTheInvitesMovedIntoItsSession (attack39
// F2): a thief holding mallory's account (her password, a phished code)
// signs in WITHOUT "remember" and mints at the console an invite for
// mal (its index entry: his session, no trust). An hour on the console
// asks him for a new code: he gives one with "remember" ticked — a new
// trust T2 for his browser, his session replaced (session.Replaced),
// and the invite's entry moved to the new session (MoveMinted: the SID
// changes, the entry's Trust stays ""). mallory, in her own browser,
// sees the strange trusted browser on her devices page and stops
// trusting it: the thief is signed out, but mal's link must end with
// what minted it (signin.Ends.EndTrust ends MintedIn("", T2) only, which
// the moved entry did not match before the move kept T2 beside its
// trust, and its session is ended and off her list, so the console's
// "End this session" cannot reach it either). On Badger and Redis,
// through a real Caddy.
func TestStopTrustingEndsTheInvitesMovedIntoItsSession(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := malloryAdminSite(t, storeLine, "\t\tremember 30d\n")
		thief := sitetest.NewClient(t, "mallory")
		signIn(t, s, thief)
		malToken := mintAt(t, s, thief, "mal")
		stepUp(t, s, thief, true)
		sitetest.Expect(t, thief.Get("/"), http.StatusOK, "")
		if inviteEnded(t, s, "mal", malToken) {
			t.Fatal("mal's link ended at the thief's step-up")
		}

		s.Advance(time.Minute)
		owner := sitetest.NewClient(t, "mallory")
		signIn(t, s, owner)
		stopTrustingTheThief(t, owner, thief)
		if !inviteEnded(t, s, "mal", malToken) {
			t.Errorf("mal's link, minted by the thief and moved into his stepped-up session, still works after mallory stopped trusting his browser (which ended that session)")
		}
	})
}

// TestRemovingAPhoneEndsTheInvitesMovedIntoTheSessionItEarned (attack39
// F2, the device's end): a thief holding a fresh copy of mallory's
// session cookie (an admin; within step_up) mints at the console an
// invite for mal, then adds a phone of his own on her devices page. Its
// code is a sign-in in his browser: his session is a new one earned by
// his phone, the copied one is replaced (session.Replaced: same user, so
// mal's entry moves to his new session, MoveMinted, keeping the device
// of the copied session, hers). mallory, told of the added phone, signs
// in again and removes it (her devices page, as attack36 F3's remedy):
// the thief's session ends, and mal's link must end with it (the move
// keeps his phone beside her device since attack39 F2). On Badger and
// Redis, through a real Caddy.
func TestRemovingAPhoneEndsTheInvitesMovedIntoTheSessionItEarned(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := malloryAdminSite(t, storeLine, "")
		owner := sitetest.NewClient(t, "mallory")
		signIn(t, s, owner)
		thief := sitetest.NewClient(t, "mallory")
		thief.SetCookie("smsgate_session", owner.Cookie("smsgate_session"))
		malToken := mintAt(t, s, thief, "mal")

		tok := thief.CSRF("/.smsgate/devices")
		sitetest.Expect(t, thief.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155550199"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		tok = thief.CSRF("/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
		sitetest.Expect(t, thief.Get("/"), http.StatusOK, "")
		if inviteEnded(t, s, "mal", malToken) {
			t.Fatal("mal's link ended at the phone's adding")
		}

		_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		var users []struct {
			User    string
			Devices []struct{ ID, Name, Phone string }
		}
		if err := json.Unmarshal([]byte(out), &users); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		var thiefs string
		for _, u := range users {
			if u.User == "mallory" && len(u.Devices) == 2 {
				thiefs = u.Devices[1].ID
			}
		}
		if thiefs == "" {
			t.Fatalf("the thief's phone not listed: %s", out)
		}

		s.Advance(time.Minute) // past the cooldown
		owner = sitetest.NewClient(t, "mallory")
		tok = codeSent(t, owner)
		sitetest.Expect(t, owner.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		tok = owner.CSRF("/.smsgate/devices")
		sitetest.Expect(t, owner.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {thiefs}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief's session outlived the removal of his phone")
		}
		if !inviteEnded(t, s, "mal", malToken) {
			t.Errorf("mal's link, minted by the thief and moved into the session his phone earned, still works after mallory removed his phone (which ended that session)")
		}
	})
}
