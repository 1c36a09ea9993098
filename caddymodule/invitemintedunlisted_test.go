package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// TestEndingUnlistedSessionsPastTwentyTrustsEndsTheInvitesTheirTrustsMinted
// (minted37): mallory signs in with a code from 20 browsers, each
// trusted; a thief holding her account, from one more (trusted too); 20
// sign-ins of hers without trust push those 21 sessions (21 trusts) off
// her list. The thief, asked for a code at the console (his browser's
// session is old), signs a session that holds his trust, and mints there
// an invite for mal. alice ends the sessions not listed: past 20 trusts
// the record keeps no IDs, and every trust of mallory's issued until the
// newest pushed out ends, the thief's among them, with the sessions it
// signed since; the invite minted in one of those ends too. Through a
// real Caddy, on Badger and Redis. (Before, his session ended and mal's
// link stayed: the invites were picked by the trusts the record named,
// none.)
func TestEndingUnlistedSessionsPastTwentyTrustsEndsTheInvitesTheirTrustsMinted(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice", "mallory", "mal"}, "\t\tremember 30d\n\t\tadmins alice mallory\n"+limitsOff)
		addUser(t, s, "alice", "+14155552670")
		addUser(t, s, "mallory", "+14155552671")
		signInFresh := func(remember bool) *sitetest.Client {
			s.Advance(time.Minute) // past the code's cooldown
			c := sitetest.NewClient(t, "mallory")
			tok := codeSent(t, c)
			form := url.Values{"code": {s.LastCode()}, "csrf": {tok}}
			if remember {
				form.Set("remember", "1")
			}
			sitetest.Expect(t, c.Post("/.smsgate/verify", form), http.StatusSeeOther, "/")
			return c
		}
		for range session.MaxListed {
			signInFresh(true)
		}
		thief := signInFresh(true)
		for range session.MaxListed {
			signInFresh(false)
		}
		s.Advance(time.Minute)
		const console = "/.smsgate/admin/user?name=mal"
		sitetest.Expect(t, thief.Get(console), http.StatusSeeOther, "/.smsgate/verify")
		tok := thief.CSRF("/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, console)
		malToken := mintAt(t, s, thief, "mal")
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)

		const page = "/.smsgate/admin/user?name=mallory"
		got := alice.Get(page)
		sitetest.ExpectBody(t, got, "Sessions pushed off this list by newer ones: 22")
		form := url.Values{"action": {"end-unlisted"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(got.Text)[1]}}
		sitetest.ConsoleDone(t, alice.PostWith(page, form, map[string]string{"Origin": s.Base}), "end-unlisted")
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief's session, of a trust the end ended, outlived it")
		}
		if !inviteEnded(t, s, "mal", malToken) {
			t.Errorf("mal's link, minted in a session of a trust the end ended, still works")
		}
		if ends := s.LogEntries("admin_sessions_end_unlisted"); len(ends) != 1 || ends[0]["invites_ended"] != float64(1) {
			t.Errorf("the audit of the end: %v; want one naming invites_ended 1", ends)
		}
	})
}
