package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// An admin's console invites end with the session or device that minted
// them (attack36 F3), and with a provisioned admin's lost number (F2).

// mintAt has admin c (signed in) mint, at the console, an invite for
// user, and returns its token.
func mintAt(t *testing.T, s *sitetest.Site, c *sitetest.Client, user string) string {
	t.Helper()
	page := "/.smsgate/admin/user?name=" + user
	got := c.Get(page)
	m := sitetest.CSRFField.FindStringSubmatch(got.Text)
	if m == nil {
		t.Fatalf("the console for %s: %d\n%s", user, got.StatusCode, got.Text)
	}
	res := sitetest.ConsoleDone(t, c.PostWith(page, url.Values{"action": {"invite"}, "csrf": {m[1]}}, map[string]string{"Origin": s.Base}), "invite")
	link := inviteLink.FindStringSubmatch(res.Text)
	if res.StatusCode != http.StatusOK || link == nil {
		t.Fatalf("the invite for %s: %d, no link\n%s", user, res.StatusCode, res.Text)
	}
	return link[1]
}

// inviteEnded says whether the invite token (of user) is refused as ended
// by an administrator, and enrolls nobody; false where its link works.
func inviteEnded(t *testing.T, s *sitetest.Site, user, token string) bool {
	t.Helper()
	c := sitetest.NewClient(t, user)
	page := c.Get("/.smsgate/invite?token=" + token)
	if page.StatusCode == http.StatusOK {
		return false
	}
	if page.StatusCode != http.StatusBadRequest || !strings.Contains(page.Text, "This invite was ended by an administrator") {
		t.Errorf("%s's link: %d, not said ended by an administrator\n%s", user, page.StatusCode, page.Text)
	}
	return true
}

// expectMalsEnded checks an end of what minted mal's invite (its audit,
// event): mal's link is ended by an administrator, ned's still works, and
// the audit's one line names invites_ended 1. malIn and nedIn say where
// each was minted.
func expectMalsEnded(t *testing.T, s *sitetest.Site, malToken, nedToken, event, malIn, nedIn string) {
	t.Helper()
	if !inviteEnded(t, s, "mal", malToken) {
		t.Errorf("mal's link, minted %s, still works after %s", malIn, event)
	}
	if inviteEnded(t, s, "ned", nedToken) {
		t.Errorf("ned's link, minted %s, ended with %s", nedIn, event)
	}
	if ends := s.LogEntries(event); len(ends) != 1 || ends[0]["invites_ended"] != float64(1) {
		t.Errorf("the audit of %s: %v; want one naming invites_ended 1", event, ends)
	}
}

// TestRemovingAnAdminsLostPhoneEndsTheInvitesItMinted (attack36 F3):
// mallory, an admin, holds two phones; a thief with the first (and her
// password) signs in and mints at the console an invite for a name of
// his, mal; mallory, signed in with her other phone, mints one for ned.
// The lost phone is removed, by mallory on her devices page or by the
// admin API: mal's link is ended by an administrator, ned's still works,
// and the removal's audit names invites_ended 1. On Badger and Redis,
// through a real Caddy. (Before, the thief's session ended, his invite
// stayed, and enrolled his phone as mal.)
func TestRemovingAnAdminsLostPhoneEndsTheInvitesItMinted(t *testing.T) {
	sitetest.Parallel(t)
	for _, by := range []string{"devices page", "admin"} {
		t.Run(by, func(t *testing.T) {
			sitetest.Parallel(t)
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
				s := textSite(t, storeLine, []string{"mallory", "mal", "ned"}, "\t\tadmins mallory\n"+limitsOff)
				lost := addUser(t, s, "mallory", "+14155552671")
				kept := addUser(t, s, "mallory", "+4915112345678")
				thief, owner := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "mallory")
				signInWith(t, s, thief, lost, false)
				signInWith(t, s, owner, kept, false)
				malToken := mintAt(t, s, thief, "mal")
				nedToken := mintAt(t, s, owner, "ned")

				event := "admin_devices_remove"
				if by != "admin" {
					event = "device_removed"
				}
				if by == "admin" {
					removeAsAdmin(t, s, "mallory", lost)
				} else {
					tok := owner.CSRF("/.smsgate/devices")
					sitetest.Expect(t, owner.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")
				}
				expectMalsEnded(t, s, malToken, nedToken, event, "with the lost phone", "with the phone kept")
			})
		})
	}
}

// twoAdminsSite is a site (with the options more) of two admins, alice
// and mallory, each with a phone, and of mal and ned, who have none.
func twoAdminsSite(t *testing.T, storeLine, more string) *sitetest.Site {
	t.Helper()
	s := textSite(t, storeLine, []string{"alice", "mallory", "mal", "ned"}, more+"\t\tadmins alice mallory\n"+limitsOff)
	addUser(t, s, "alice", "+14155552670")
	addUser(t, s, "mallory", "+14155552671")
	return s
}

// mintedByThiefAndOwner signs in, at s (twoAdminsSite), a thief holding
// mallory's account, mallory in a browser of her own, and alice; the thief
// mints at the console an invite for mal, mallory one for ned (their
// tokens).
func mintedByThiefAndOwner(t *testing.T, s *sitetest.Site) (thief, alice *sitetest.Client, malToken, nedToken string) {
	t.Helper()
	thief, owner, alice := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "alice")
	signIn(t, s, thief)
	s.Advance(time.Minute) // past the first code's cooldown
	signIn(t, s, owner)
	signIn(t, s, alice)
	return thief, alice, mintAt(t, s, thief, "mal"), mintAt(t, s, owner, "ned")
}

// TestEndingAnAdminsSessionEndsTheInvitesItMinted (attack36 F3): a thief
// holding mallory's account mints at the console an invite for mal;
// mallory, in another browser, one for ned. alice, an admin, ends the
// thief's session at the console ("End this session"): mal's link is
// ended by an administrator, ned's still works, and the audit of the end
// names invites_ended 1. On Badger and Redis, through a real Caddy.
// (Before, the session ended and its invite stayed.)
func TestEndingAnAdminsSessionEndsTheInvitesItMinted(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := twoAdminsSite(t, storeLine, "")
		thief, alice, malToken, nedToken := mintedByThiefAndOwner(t, s)

		const page = "/.smsgate/admin/user?name=mallory"
		got := alice.Get(page)
		form := url.Values{"action": {"end"}, "session": {sessionID(t, thief.Cookie("smsgate_session"))}, "csrf": {sitetest.CSRFField.FindStringSubmatch(got.Text)[1]}}
		sitetest.ConsoleDone(t, alice.PostWith(page, form, map[string]string{"Origin": s.Base}), "end")
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief's session outlived its end")
		}
		expectMalsEnded(t, s, malToken, nedToken, "admin_sessions_end", "in the session ended", "in mallory's other session")
	})
}

// TestEndingAnAdminsUnlistedSessionsEndsTheInvitesTheyMinted (attack36
// F3): a thief holding mallory's account signs in (his browser trusted),
// mints at the console an invite for mal, then signs in 20 times more by
// the trust, pushing that session off her list; mallory, signed in since
// in another browser, mints one for ned. alice ends the sessions not
// listed (the console's button): mal's link is ended, ned's still works.
// Through a real Caddy, on Badger and Redis.
func TestEndingAnAdminsUnlistedSessionsEndsTheInvitesTheyMinted(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := twoAdminsSite(t, storeLine, "\t\tremember 30d\n")
		thief := sitetest.NewClient(t, "mallory")
		tok := codeSent(t, thief)
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		malToken := mintAt(t, s, thief, "mal")
		for range session.MaxListed {
			s.Advance(time.Second)
			thief.SetCookie("smsgate_session", "")
			sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
		}
		s.Advance(time.Minute)
		owner, alice := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "alice")
		signIn(t, s, owner)
		signIn(t, s, alice)
		nedToken := mintAt(t, s, owner, "ned")

		const page = "/.smsgate/admin/user?name=mallory"
		got := alice.Get(page)
		sitetest.ExpectBody(t, got, "Sessions pushed off this list by newer ones: 2") // the thief's first two
		form := url.Values{"action": {"end-unlisted"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(got.Text)[1]}}
		sitetest.ConsoleDone(t, alice.PostWith(page, form, map[string]string{"Origin": s.Base}), "end-unlisted")
		expectMalsEnded(t, s, malToken, nedToken, "admin_sessions_end_unlisted", "in a session pushed off the list", "in a session signed since")
	})
}
