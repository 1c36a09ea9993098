package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnAdminTakenOutOfAdminsEndsHerInvites (minted37): mallory, an
// admin, mints at the console an invite for mal, and one for pat, which
// pat accepts and has a code sent for; alice, an admin, mints one for
// ned. The operator takes mallory out of admins and reloads: mal's link
// is refused (the administrator who made it is no longer one here), pat's
// code enrolls nothing, ned's link works. Named again (a reload), mal's
// link works again: the rule is asked where an invite is redeemed, no
// event ends it. Through a real Caddy, on Badger and Redis. (Before, both
// of mallory's invites enrolled their holders after the reload.)
func TestAnAdminTakenOutOfAdminsEndsHerInvites(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		users := []string{"alice", "mallory", "mal", "ned", "pat"}
		s := textSite(t, storeLine, users, "\t\tadmins alice mallory\n"+limitsOff)
		addUser(t, s, "alice", "+14155552670")
		addUser(t, s, "mallory", "+14155552671")
		mallory, alice := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "alice")
		signIn(t, s, mallory)
		signIn(t, s, alice)
		malToken := mintAt(t, s, mallory, "mal")
		patToken := mintAt(t, s, mallory, "pat")
		nedToken := mintAt(t, s, alice, "ned")
		pat := sitetest.NewClient(t, "pat")
		tok := pat.CSRF("/.smsgate/invite?token=" + patToken)
		sitetest.Expect(t, pat.Post("/.smsgate/invite", url.Values{"token": {patToken}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
		sitetest.Expect(t, pat.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552679"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()

		kept := keep(s) // the first site's store, for both reloads
		s = textSite(t, kept, users, "\t\tadmins alice\n"+limitsOff)
		if res := sitetest.NewClient(t, "mal").Get("/.smsgate/invite?token=" + malToken); res.StatusCode != http.StatusBadRequest ||
			!strings.Contains(res.Text, "the administrator who made it is no longer an administrator here") {
			t.Errorf("mal's link, minted by an admin the config no longer names: %d\n%s", res.StatusCode, res.Text)
		}
		pat.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, `"user":"pat"`) {
			t.Errorf("pat's code, sent before mallory was taken out of admins, enrolled a phone after: %s", out)
		}
		if res := pat.Get("/"); res.StatusCode == http.StatusOK {
			t.Errorf("pat signed in by mallory's invite after she was taken out of admins: %s", res.Text)
		}
		if inviteEnded(t, s, "ned", nedToken) {
			t.Errorf("ned's link, minted by alice, ended with mallory's admin")
		}

		s = textSite(t, kept, users, "\t\tadmins alice mallory\n"+limitsOff)
		if res := sitetest.NewClient(t, "mal").Get("/.smsgate/invite?token=" + malToken); res.StatusCode != http.StatusOK {
			t.Errorf("mal's link, its admin named again: %d\n%s", res.StatusCode, res.Text)
		}
	})
}

// TestAnOperatorEndsAnAdminAPIInviteByRevokingItsUser (minted37 4): an
// invite the admin API makes names no admin, and no admin's end reaches
// it; the operator ends it by revoking its user, who holds nothing else
// (the README's way, one user at a time): answered 200, not "No such
// user", and its link then says it was ended, a flow that accepted it
// before enrolls nothing. Through a real Caddy, on Badger and Redis.
func TestAnOperatorEndsAnAdminAPIInviteByRevokingItsUser(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"olga", "pia"}, limitsOff)
		mint := func(user string) string {
			t.Helper()
			st, out := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"`+user+`","ttl":"1h"}`)
			link := inviteLink.FindStringSubmatch(out)
			if st != http.StatusOK || link == nil {
				t.Fatalf("the admin API's invite for %s: %d %s", user, st, out)
			}
			return link[1]
		}
		olgaToken, piaToken := mint("olga"), mint("pia")
		pia := sitetest.NewClient(t, "pia")
		tok := pia.CSRF("/.smsgate/invite?token=" + piaToken)
		sitetest.Expect(t, pia.Post("/.smsgate/invite", url.Values{"token": {piaToken}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
		s.Advance(time.Second)
		for _, user := range []string{"olga", "pia"} {
			if st, out := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"`+user+`"}`); st != http.StatusOK {
				t.Fatalf("revoking %s, who holds an invite: %d %s", user, st, out)
			}
		}
		s.Advance(time.Second)
		if res := sitetest.NewClient(t, "olga").Get("/.smsgate/invite?token=" + olgaToken); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "This invite was ended") {
			t.Errorf("olga's link after her revoke: %d\n%s", res.StatusCode, res.Text)
		}
		sent := s.Sent()
		pia.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552679"}, "csrf": {tok}})
		if s.Sent() > sent { // a code went out: typed, it must enroll nothing
			t.Errorf("pia's flow, which accepted the invite before her revoke, was sent a code after it")
			pia.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
		}
		if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, `"user":"pia"`) {
			t.Errorf("pia's flow, which accepted the invite before her revoke, enrolled after it: %s", out)
		}
	})
}
