package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// shorterGateSite is a site whose realm, localhost, has two gates on one
// store (a HoldStore in dir over storeLine's) behind one basic_auth: one
// under /short/ (pages under /short/.smsgate/) with a session lifetime of
// 1h, and one at the root with 12h; both name alice and mallory admins.
func shorterGateSite(t *testing.T, dir, storeLine string) *sitetest.Site {
	t.Helper()
	var users strings.Builder
	for _, u := range []string{"alice", "mallory", "mal", "ned"} {
		fmt.Fprintf(&users, "\t\t%s %s\n", u, sitetest.DemoHash)
	}
	held := strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1)
	gate := func(more string) string {
		return `smsgate {
			realm localhost
			enrollment closed
			admins alice mallory
			` + more + `
			` + held + `
			provider log
` + limitsOff + `		}`
	}
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
`+users.String()+`	}
	handle /short* {
		`+gate("path_prefix /short/.smsgate/\n\t\t\tsession_lifetime 1h")+`
		respond "short"
	}
	handle {
		`+gate("session_lifetime 12h")+`
		respond "Hello, {http.auth.user.id}!"
	}
}`)
	addUser(t, s, "alice", "+14155552670")
	addUser(t, s, "mallory", "+14155552671")
	return s
}

// TestAShorterGatesSignedOutSessionStaysListedAtALongerGate (expiry40,
// attack39c F1): two gates of one realm on one store, session lifetimes
// 1h (/short/) and 12h (the root). A thief holding mallory's account signs
// in at the short gate, mints at its console an invite for mal, and signs
// out there (an honest sign-out ends no invite). Two hours later the
// session's end record is gone with its expiry (its TTL, 1h: the test has
// it read as gone, sitetest.Expire, as the store's real-time TTL would);
// mal's link still works, and the long gate's console and the admin API
// must still list the session, as expired (its end record, which told a
// sign-out apart, is gone) with 1 invite link open, and
// its end there ends mal's link. On Badger and Redis, through a real
// Caddy. (Before, the long gate judged the session by its own 12h
// lifetime: neither ended nor over, it was listed nowhere until 12h, a
// live invite nobody could see.)
func TestAShorterGatesSignedOutSessionStaysListedAtALongerGate(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := shorterGateSite(t, dir, storeLine)
		thief, alice := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "alice")

		sitetest.Expect(t, thief.Get("/short/.smsgate/login?rd=%2Fshort%2F"), http.StatusSeeOther, "/short/.smsgate/verify")
		tok := thief.CSRF("/short/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/short/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/short/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/short/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/short/")
		sid := sessionID(t, thief.Cookie("smsgate_session"))
		const short = "/short/.smsgate/admin/user?name=mal"
		got := thief.Get(short)
		m := sitetest.CSRFField.FindStringSubmatch(got.Text)
		if m == nil {
			t.Fatalf("the short gate's console: %d\n%s", got.StatusCode, got.Text)
		}
		res := sitetest.ConsoleDone(t, thief.PostWith(short, url.Values{"action": {"invite"}, "csrf": {m[1]}}, map[string]string{"Origin": s.Base}), "invite")
		link := inviteLink.FindStringSubmatch(res.Text)
		if link == nil {
			t.Fatalf("mal's invite at the short gate: %d, no link\n%s", res.StatusCode, res.Text)
		}
		malToken := link[1]
		tok = sitetest.CSRFField.FindStringSubmatch(thief.Get("/short/.smsgate/logout").Text)[1]
		sitetest.Expect(t, thief.Post("/short/.smsgate/logout", url.Values{"csrf": {tok}}), http.StatusOK, "")

		s.Advance(2 * time.Hour)
		sitetest.Expire(t, dir, endkeys.Session("localhost", sid))
		signIn(t, s, alice)
		if inviteEnded(t, s, "mal", malToken) {
			t.Fatalf("mal's link ended with the sign-out of the session that minted it")
		}
		const page = "/.smsgate/admin/user?name=mallory"
		got = alice.Get(page)
		row := fmt.Sprintf(`<input type="hidden" name="action" value="end-signed-out"><input type="hidden" name="session" value="%s">`, sid)
		if !strings.Contains(got.Text, "Expired; 1 invite link minted in it is still open") || !strings.Contains(got.Text, row) {
			t.Fatalf("the long gate's console, 2h on, does not list the short gate's signed-out session with its open invite:\n%s", got.Text)
		}
		if st, out := s.Admin("GET", "/smsgate/sessions/signed-out?realm=localhost&user=mallory", ""); st != http.StatusOK || !strings.Contains(out, sid) || !strings.Contains(out, `"invites_open":1`) {
			t.Errorf("the admin API, 2h on, does not list the short gate's signed-out session: %d %s", st, out)
		}
		form := url.Values{"action": {"end-signed-out"}, "session": {sid}, "csrf": {sitetest.CSRFField.FindStringSubmatch(got.Text)[1]}}
		done := sitetest.ConsoleDone(t, alice.PostWith(page, form, map[string]string{"Origin": s.Base}), "end-signed-out")
		sitetest.ExpectBody(t, done, "The invite links minted in that signed-out session have ended")
		if !inviteEnded(t, s, "mal", malToken) {
			t.Errorf("mal's link still works after the end of the signed-out session that minted it")
		}
	})
}
