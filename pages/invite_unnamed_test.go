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
// name it does not list, is refused at its link with a page that says
// why (400, not burnt: another gate of the realm may admit bob), and no
// phone is enrolled for bob. Before, bob enrolled a phone here that could
// never sign him in here. An invite for carol is taken as ever.
func TestAnInviteForANameTheFormDoesNotAdmit(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.NamedUsersSite)
	invite := func(user string) string {
		t.Helper()
		st, out := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"`+user+`","ttl":"1h"}`)
		if st != http.StatusOK {
			t.Fatalf("invite for %s: %d %s", user, st, out)
		}
		return out[strings.Index(out, "token=")+len("token=") : strings.Index(out, `","url"`)]
	}
	const why = "This invite is for an account this site does not sign in"

	bob := sitetest.NewClient(t, "")
	token := invite("bob")
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

	carol := sitetest.NewClient(t, "")
	token = invite("carol")
	sitetest.Expect(t, carol.Get("/.smsgate/invite?token="+token), http.StatusOK, "")
}
