package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnInviteForANameTheFormDoesNotAdmit: a login form that names its
// users (alice and carol) signs in nobody else, so an invite for bob, a
// name it does not list, is refused at its link there with a page that
// says why (400, not burnt: another gate of the realm may admit bob), and
// no phone is enrolled for bob. Before, bob enrolled a phone here that
// could never sign him in here. The admin's tools mint such an invite only
// where another gate of the realm on the same store signs bob in (here the
// one under /bob/, behind basic_auth), and its link leads there
// (TestAnInviteNoGateSignsInIsRefused); the gate still refuses it at its
// own link (a config reloaded without that gate, a link passed around).
// The console's invites go by the realm's gates as the admin API's do; for
// carol, whose phone the config gives, none is made (invite36).
func TestAnInviteForANameTheFormDoesNotAdmit(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.RealmSite(sitetest.BasicAuthGate("bob", ""), ""))
	const why = "This invite is for an account this site does not sign in"
	st, out := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"bob","ttl":"1h"}`)
	if st != http.StatusOK || !strings.Contains(out, `"path":"/bob/.smsgate/invite?token=`) {
		t.Fatalf("invite for bob: %d %s, want a link to /bob/.smsgate/", st, out)
	}
	token := out[strings.Index(out, "token=")+len("token=") : strings.Index(out, `","url"`)]

	bob := sitetest.NewClient(t, "")
	res := bob.Get("/.smsgate/invite?token=" + token)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, why) {
		t.Errorf("the link of an invite for a name the login form does not admit: %d %.80s", res.StatusCode, res.Text)
	}
	tok := bob.CSRF("/.smsgate/login")
	res = bob.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, why) {
		t.Errorf("taking an invite for a name the login form does not admit: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	sent := s.Sent()
	if bob.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550123"}, "csrf": {tok}}); s.Sent() != sent {
		bob.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	}
	if _, users := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(users, `"user":"bob"`) {
		t.Errorf("a phone enrolled for bob, whom this login form never admits: %s", users)
	}
	// At his own gate, the same link stands (it was not burnt).
	bob.User = "bob"
	sitetest.Expect(t, bob.Get("/bob/.smsgate/invite?token="+token), http.StatusOK, "")

	// The console (alice's, at the main gate) goes by the realm's gates
	// too: bob's invite leads to his gate; carol's is refused, with why.
	alice := sitetest.NewClient(t, "")
	atok := alice.CSRF("/.smsgate/login")
	sitetest.Expect(t, alice.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {atok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {atok}}), http.StatusSeeOther, "/")
	for user, want := range map[string]string{"bob": "/bob/.smsgate/invite?token=", "carol": "this user&#39;s phone is set in the configuration"} {
		path := "/.smsgate/admin/user?name=" + user
		res := consolePost(alice, path, url.Values{"action": {"invite"}, "csrf": {alice.CSRF(path)}}, s.Base)
		if res.StatusCode == http.StatusSeeOther {
			res = sitetest.ConsoleDone(t, res, "invite") // made: its link on the page the answer sends to
		}
		if !strings.Contains(res.Text, want) || (user == "carol") != (res.StatusCode == http.StatusConflict) || strings.Contains(res.Text, "token=") != (user == "bob") {
			t.Errorf("the console's invite for %s: %d, want %q", user, res.StatusCode, want)
		}
	}
}
