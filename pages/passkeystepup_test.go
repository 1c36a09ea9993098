package pages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnotherPasskeyNeedsAPasskeyNotAnApp: through a real Caddy, a user who
// holds a passkey proves a passkey to add or remove one. Carol holds an app
// and a passkey; /admin* requires a passkey. Whoever has one of her app's
// codes (phished: an app's code can be, a passkey cannot) signs in with it
// at the site's gate, and may not add a passkey of their own — which would
// pass the route that requires one — nor remove hers: the step-up for it
// takes her passkey only.
func TestAnotherPasskeyNeedsAPasskeyNotAnApp(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, passkeyAdminSite)
	origin := s.WithPorts(s.Base)
	secret := addApp(t, s, sitetest.NewClient(t, ""))
	s.Advance(30 * time.Second) // the confirming code is used
	appSignIn := func() *sitetest.Client {
		t.Helper()
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")
		return c
	}
	register := func(c *sitetest.Client, auth *fakes.Authenticator) *sitetest.Response {
		t.Helper()
		c.Get("/.smsgate/devices")
		begin := passkeyCall(c, "register/begin", origin, nil)
		if begin.StatusCode != http.StatusOK {
			return begin
		}
		answer, err := auth.Create([]byte(begin.Text))
		if err != nil {
			t.Fatal(err)
		}
		return passkeyCall(c, "register/finish", origin, answer)
	}
	// Her first passkey, with her app's sign-in: nothing stronger exists yet.
	mine := fakes.NewAuthenticator("localhost", origin)
	if res := register(appSignIn(), mine); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"added"`) {
		t.Fatalf("carol's passkey: %d %s", res.StatusCode, res.Text)
	}

	// The phisher, with the app's next code.
	s.Advance(30 * time.Second)
	m := appSignIn()
	evil := fakes.NewAuthenticator("localhost", origin)
	if res := register(m, evil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a passkey added with an app's session, where the user holds one: %d %s", res.StatusCode, res.Text)
	}
	// The devices page asks for her passkey first, and the step-up takes
	// no app's code.
	tok := m.CSRF("/.smsgate/devices")
	sitetest.Expect(t, m.Post("/.smsgate/devices", url.Values{"action": {"passkey"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	s.Advance(30 * time.Second)
	if res := m.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("the app's code at a step-up for a passkey: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := register(m, evil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a passkey added after the step-up was refused: %d %s", res.StatusCode, res.Text)
	}
	// Nor is her passkey removed with the app's session (removing the
	// app, the last, signs that session out).
	page := m.Get("/.smsgate/devices").Text
	ids := regexpDevice.FindAllStringSubmatch(page, -1)
	for _, id := range ids {
		m.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id[1]}, "confirm": {"1"}, "csrf": {tok}})
	}
	if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); !strings.Contains(out, `"kind":"passkey"`) {
		t.Fatalf("her passkey removed with an app's session:\n%s", out)
	}
	// The route that requires a passkey never let the phisher in.
	p := sitetest.NewClient(t, "")
	p.Get("/admin/.smsgate/login")
	begin := p.PostJSON("/admin/.smsgate/passkey/login/begin", origin, map[string]string{})
	if answer, err := evil.Get([]byte(begin.Text)); err == nil {
		p.PostJSON("/admin/.smsgate/passkey/login/finish", origin, json.RawMessage(answer))
	}
	if res := p.Get("/admin/x"); res.StatusCode == http.StatusOK {
		t.Fatalf("the phisher's passkey at the route that requires one: %q", res.Text)
	}

	// Carol, signed in with her passkey, adds another.
	c := sitetest.NewClient(t, "")
	c.Get("/.smsgate/login")
	begin = passkeyCall(c, "login/begin", origin, nil)
	answer, err := mine.Get([]byte(begin.Text))
	if err != nil {
		t.Fatal(err)
	}
	if res := passkeyCall(c, "login/finish", origin, answer); res.StatusCode != http.StatusOK {
		t.Fatalf("carol's passkey sign-in: %d %s", res.StatusCode, res.Text)
	}
	if res := register(c, fakes.NewAuthenticator("localhost", origin)); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"added"`) {
		t.Fatalf("a second passkey, with the first: %d %s", res.StatusCode, res.Text)
	}
}
