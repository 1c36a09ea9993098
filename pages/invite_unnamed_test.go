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
// one under /bob/, which names him), and its link leads there
// (TestAnInviteNoGateSignsInIsRefused); the gate still refuses it at its
// own link (a config reloaded without bob, a link passed around). An
// invite for carol is taken as ever. The console's invites go by the
// realm's gates as the admin API's do.
func TestAnInviteForANameTheFormDoesNotAdmit(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.NamedForms(""))
	invite := func(user, at string) string {
		t.Helper()
		st, out := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"`+user+`","ttl":"1h"}`)
		if st != http.StatusOK || !strings.Contains(out, `"path":"`+at+`invite?token=`) {
			t.Fatalf("invite for %s: %d %s, want a link to %s", user, st, out, at)
		}
		return out[strings.Index(out, "token=")+len("token=") : strings.Index(out, `","url"`)]
	}
	const why = "This invite is for an account this site does not sign in"

	bob := sitetest.NewClient(t, "")
	token := invite("bob", "/bob/.smsgate/")
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
	sitetest.Expect(t, bob.Get("/bob/.smsgate/invite?token="+token), http.StatusOK, "")

	carol := sitetest.NewClient(t, "")
	token = invite("carol", "/.smsgate/")
	sitetest.Expect(t, carol.Get("/.smsgate/invite?token="+token), http.StatusOK, "")

	// The console (alice's, at the main gate) goes by the realm's gates
	// too: bob's invite leads to his gate, and one for dave, whom no gate
	// of the realm names, is refused with the reason.
	alice := sitetest.NewClient(t, "")
	atok := alice.CSRF("/.smsgate/login")
	sitetest.Expect(t, alice.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {atok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {atok}}), http.StatusSeeOther, "/")
	for user, want := range map[string]string{"bob": "/bob/.smsgate/invite?token=", "dave": "no gate of realm localhost signs in dave"} {
		path := "/.smsgate/admin/user?name=" + user
		res := consolePost(alice, path, url.Values{"action": {"invite"}, "csrf": {alice.CSRF(path)}}, s.Base)
		if res.StatusCode == http.StatusSeeOther {
			res = sitetest.ConsoleDone(t, res, "invite") // made: its link on the page the answer sends to
		}
		if !strings.Contains(res.Text, want) || (user == "dave") != (res.StatusCode == http.StatusConflict) || strings.Contains(res.Text, "token=") != (user == "bob") {
			t.Errorf("the console's invite for %s: %d, want %q", user, res.StatusCode, want)
		}
	}
}
