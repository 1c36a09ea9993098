package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

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
