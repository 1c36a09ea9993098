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

// passkeyAdminSite puts the console on a gate that requires a passkey
// (/admin*, its pages under /admin/.smsgate/); the site's own gate, of the
// same realm and session cookie, takes texts and apps too.
const passkeyAdminSite = `http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			path_prefix /admin/.smsgate/
			require webauthn
			admins carol
			store badger {DIR}
			provider log
		}
		respond "admin {http.auth.user.id} ({http.auth.user.amr})"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
	}
}`

// TestTheConsoleTakesWhatItsGateRequires: through a real Caddy, the console
// of a gate that requires a passkey is no weaker than the gate's own route.
// Carol, the admin, holds a phone, an app and a passkey; signed in a moment
// ago with her app's code at the site's gate (a code that can be phished, as
// a passkey cannot: why the operator required one), she is refused at the
// admin's route, and the console beside it sends her to prove her passkey
// too, not in.
func TestTheConsoleTakesWhatItsGateRequires(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, passkeyAdminSite)
	origin := s.WithPorts(s.Base)
	secret := addApp(t, s, sitetest.NewClient(t, ""))
	s.Advance(30 * time.Second) // the confirming code is used

	// A new browser, signed in with the app's code at the site's gate.
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")
	// Her passkey, added with that session (it proved the app).
	c.Get("/.smsgate/devices")
	auth := fakes.NewAuthenticator("localhost", origin)
	begin := passkeyCall(c, "register/begin", origin, nil)
	answer, err := auth.Create([]byte(begin.Text))
	if begin.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("register/begin: %d %s (%v)", begin.StatusCode, begin.Text, err)
	}
	if res := passkeyCall(c, "register/finish", origin, answer); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"added"`) {
		t.Fatalf("register/finish: %d %s", res.StatusCode, res.Text)
	}

	// The app's session: the site lets her in, the admin's route does not.
	if res := c.Get("/"); res.StatusCode != http.StatusOK || res.Text != "Hello, carol (otp)" {
		t.Fatalf("the site: %d %q", res.StatusCode, res.Text)
	}
	if res := c.Get("/admin/x"); res.StatusCode == http.StatusOK {
		t.Fatalf("the admin's route with the app's session: %d %q", res.StatusCode, res.Text)
	}
	// Nor its console: a passkey first, and it alone is offered (the
	// app's code would pass the verify step and not the route).
	sitetest.Expect(t, c.Get("/admin/.smsgate/admin/"), http.StatusSeeOther, "/admin/.smsgate/verify")
	sitetest.Expect(t, c.Get("/admin/.smsgate/admin/user?name=carol"), http.StatusSeeOther, "/admin/.smsgate/verify")
	passkeyOnly := func(c *sitetest.Client, why string) {
		t.Helper()
		page := c.Get("/admin/.smsgate/verify")
		sitetest.ExpectBody(t, page, why)
		sitetest.ExpectBody(t, page, `id="passkey-use"`)
		for _, offer := range []string{`<details class="app"`, `value="send"`, `value="call"`, `id="recovery-code"`} {
			if strings.Contains(page.Text, offer) {
				t.Errorf("the console's verify page at a route that requires a passkey offers %s:\n%s", offer, page.Text)
			}
		}
	}
	passkeyOnly(c, "The console needs a sign-in of a kind this site asks for")
	// And with a text at the site's gate: the console asks for her app or
	// passkey — of which the route takes the passkey alone.
	x := sitetest.NewClient(t, "")
	sitetest.SignInAs(t, s, x, "carol")
	sitetest.Expect(t, x.Get("/admin/.smsgate/admin/"), http.StatusSeeOther, "/admin/.smsgate/verify")
	passkeyOnly(x, "The console needs your authenticator app or passkey")

	// With the passkey, at the admin's gate: the console.
	p := sitetest.NewClient(t, "")
	p.Get("/admin/.smsgate/login")
	begin = p.PostJSON("/admin/.smsgate/passkey/login/begin", origin, map[string]string{})
	if answer, err = auth.Get([]byte(begin.Text)); begin.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("login/begin: %d %s (%v)", begin.StatusCode, begin.Text, err)
	}
	if res := p.PostJSON("/admin/.smsgate/passkey/login/finish", origin, json.RawMessage(answer)); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"verified"`) {
		t.Fatalf("login/finish: %d %s", res.StatusCode, res.Text)
	}
	sitetest.Expect(t, p.Get("/admin/x"), http.StatusOK, "")
	sitetest.Expect(t, p.Get("/admin/.smsgate/admin/"), http.StatusOK, "")
}

// TestTheConsoleIsNoStalerThanItsGatesMaxAge: through a real Caddy, at a
// gate whose max_age (1m) is shorter than the console's own 5 minutes, a
// sign-in the gate's route no longer takes opens its console no more
// either: a code first.
func TestTheConsoleIsNoStalerThanItsGatesMaxAge(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice\n\t\tmax_age 1m")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Expect(t, alice.Get("/.smsgate/admin/"), http.StatusOK, "")
	s.Advance(2 * time.Minute)
	if res := alice.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("the route after its max_age: %d", res.StatusCode)
	}
	sitetest.Expect(t, alice.Get("/.smsgate/admin/"), http.StatusSeeOther, "/.smsgate/verify")
}
