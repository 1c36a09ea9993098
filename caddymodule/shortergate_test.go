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
	"github.com/smsgate/caddy-smsgate/store"
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

// TestSignedOutSessionsOfThePreviousReleasesIndexAreStillListed (expiry40,
// the upgrade): a store the previous release wrote holds mallory's index
// of the invites she minted at the console as it wrote them, each naming
// its session without its expiry: olga's, of a session signed out ten
// minutes ago (its end record stands), and pia's, of one signed two hours
// ago (the gate's lifetime is 1h; no end record: gone with it). This
// release reads it as the previous one did: alice's console lists both
// (signed out, and expired), the admin API too, and the end of each by
// its SID ends its invite alone. On Badger and Redis, through a real
// Caddy.
func TestSignedOutSessionsOfThePreviousReleasesIndexAreStillListed(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		now := time.Now().UTC().Truncate(time.Second)
		tokens := map[string]string{"olga": "PREVIOUSRELEASEINVITEFOROLGA2345", "pia": "PREVIOUSRELEASEINVITEFORPIA23456"}
		issued := map[string]time.Time{"olga": now.Add(-10 * time.Minute), "pia": now.Add(-2 * time.Hour)}
		sids := map[string]string{"olga": "OLGASSESSIONOFTHEPREVIOUSREL", "pia": "PIASSESSIONOFTHEPREVIOUSRELE"}
		var index []map[string]any
		for _, user := range []string{"olga", "pia"} {
			id := putPreviousInvite(t, st, now, tokens[user], user, map[string]any{"by": "mallory"})
			putRecord(t, st, endkeys.LatestInvite("localhost", user), map[string]any{"id": id})
			index = append(index, map[string]any{"user": user, "id": id, "expires": now.Add(24 * time.Hour), "made": now.Add(-time.Minute),
				"from": map[string]any{"sid": sids[user], "issued": issued[user]}})
		}
		putRecord(t, st, endkeys.MintedInvites("localhost", "mallory"), index)
		putRecord(t, st, endkeys.Session("localhost", sids["olga"]), "announced")
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}

		s := textSite(t, storeLine, []string{"alice", "mallory", "olga", "pia"}, "\t\tadmins alice mallory\n\t\tsession_lifetime 1h\n"+limitsOff)
		addUser(t, s, "alice", "+14155552670")
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		got := alice.Get("/.smsgate/admin/user?name=mallory")
		for _, want := range []string{"Signed out; 1 invite link minted in it is still open", "Expired; 1 invite link minted in it is still open",
			`name="session" value="` + sids["olga"] + `"`, `name="session" value="` + sids["pia"] + `"`} {
			if !strings.Contains(got.Text, want) {
				t.Fatalf("the console does not list the previous release's signed-out sessions (%q):\n%s", want, got.Text)
			}
		}
		if st, out := s.Admin("GET", "/smsgate/sessions/signed-out?realm=localhost&user=mallory", ""); st != http.StatusOK || !strings.Contains(out, sids["olga"]) || !strings.Contains(out, sids["pia"]) {
			t.Errorf("the admin API does not list the previous release's signed-out sessions: %d %s", st, out)
		}
		for _, user := range []string{"olga", "pia"} {
			st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"mallory","id":%q}`, sids[user]))
			if st != http.StatusOK || !strings.Contains(out, `"invites_ended":"1"`) {
				t.Fatalf("the end of %s's session: %d %s", user, st, out)
			}
			if !inviteEnded(t, s, user, tokens[user]) {
				t.Errorf("%s's invite still works after the end of the session that minted it", user)
			}
		}
	})
}
