package pages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// requireSite guards /admin* with a gate that requires an authenticator
// app (its pages under /admin/.smsgate/); the rest takes texts too.
const requireSite = `http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			path_prefix /admin/.smsgate/
			require totp
			session_lifetime 1h
			store badger {DIR}
			provider log
		}
		respond "admin {http.auth.user.id} ({http.auth.user.amr})"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			session_lifetime 1h
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
	}
}`

// TestRequireAStrongerKind: a route that requires an authenticator app
// turns a texted session away; its sign-in sends no text, offers only the
// app (and says so, with the way to the devices page, to a user who has
// none); the app's code lets carol in; a trusted browser's session never
// passes it.
func TestRequireAStrongerKind(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, requireSite)
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	if res := c.Get("/admin/x"); res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/admin/.smsgate/login") {
		t.Fatalf("a texted session on the app-only route: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	texts := s.Sent
	sent := texts()
	tok := sitetest.CSRFField.FindStringSubmatch(c.Get("/admin/.smsgate/login?rd=/admin/x").Text)[1]
	sitetest.Expect(t, c.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	page := c.Get("/admin/.smsgate/verify")
	if !strings.Contains(page.Text, "asks for a sign-in with an authenticator app") || strings.Contains(page.Text, "Send me a code") ||
		strings.Contains(page.Text, "I don&#39;t have my phone") || !strings.Contains(page.Text, "Use my authenticator app") {
		t.Fatalf("the verify page of the app-only route:\n%s", page.Text)
	}
	if res := c.Post("/admin/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("asking the app-only route for a text: %d", res.StatusCode)
	}
	if n := texts(); n != sent {
		t.Fatalf("the app-only route sent %d texts", n-sent)
	}

	// carol adds an app (on the main devices page), then uses it here.
	tok2 := c.CSRF("/.smsgate/devices")
	res := c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok2}})
	secret := appSecret.FindStringSubmatch(res.Text)[1]
	c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok2}})
	s.Advance(30 * time.Second)
	tok = sitetest.CSRFField.FindStringSubmatch(c.Get("/admin/.smsgate/login?rd=/admin/x").Text)[1]
	c.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, c.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "remember": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/x")
	if res := c.Get("/admin/x"); res.StatusCode != http.StatusOK || res.Text != "admin carol (otp)" {
		t.Fatalf("the app's session on the app-only route: %d %q", res.StatusCode, res.Text)
	}

	// The browser is trusted (by the app's code). Once the session is
	// over, the trust brings one back, which the route still turns away.
	s.Advance(2 * time.Hour)
	sitetest.Expect(t, c.Get("/admin/.smsgate/login?rd=/admin/x"), http.StatusSeeOther, "/admin/x")
	if res := c.Get("/admin/x"); res.StatusCode == http.StatusOK {
		t.Fatalf("a trusted browser's session passed a route that requires an app: %q", res.Text)
	}
}

// TestFactorsConfig: factors leaves kinds out (no apps offered when totp
// is not named), and a policy that cannot work fails to load.
func TestFactorsConfig(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		factors sms
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}"
}`)
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	page := c.Get("/.smsgate/devices")
	if strings.Contains(page.Text, "authenticator app") || strings.Contains(page.Text, "passkey") {
		t.Fatalf("a gate with factors sms offers more:\n%s", page.Text)
	}
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	if res := c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("adding an app where factors leave it out: %d", res.StatusCode)
	}
	for cfg, want := range map[string]string{
		"factors sms voice":             "factors voice: the channels do not include voice",
		"factors totp":                  "name sms or voice too",
		"factors sms\n\t\trequire totp": "require totp: this gate does not take totp",
		"factors sms fax":               "use sms, voice, totp or webauthn, at Caddyfile:5",
	} {
		sitetest.AssertLoadError(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		`+cfg+`
		store badger {DIR}
		provider log
	}
}`, want)
	}
}

// TestInvitesLeadToAGateThatEnrolls: on a site whose first gate requires
// an app (it takes no texts, so no phone can be enrolled there), an invite
// leads to the gate that enrolls phones, and the invited user enrolls
// through it (one that names no users: a login form that names them
// refuses an invite for anyone else); a realm served only by require
// gates gets no invite, but an error that says why.
func TestInvitesLeadToAGateThatEnrolls(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, strings.Replace(requireSite, "user carol +14155552671\n\t\t\tsession_lifetime", "session_lifetime", 1))
	st, body := sitetest.Admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"frank","ttl":"1h"}`)
	var inv struct{ Path string }
	if err := json.Unmarshal([]byte(body), &inv); st != http.StatusOK || err != nil || !strings.HasPrefix(inv.Path, "/.smsgate/invite?token=") {
		t.Fatalf("invite: %d %s", st, body)
	}
	c := sitetest.NewClient(t, "")
	tok := sitetest.CSRFField.FindStringSubmatch(c.Get(inv.Path).Text)[1]
	token := strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
	sitetest.Expect(t, c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552680"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
	if res := c.Get("/"); !strings.HasPrefix(res.Text, "Hello, frank") {
		t.Fatalf("frank, enrolled by his invite: %d %s", res.StatusCode, res.Text)
	}

	sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		require totp
		store badger {DIR}
		provider log
	}
	respond "admin"
}`)
	st, body = sitetest.Admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"frank"}`)
	if st != http.StatusConflict || !strings.Contains(body, "no phone can be enrolled") {
		t.Fatalf("an invite for a realm served only by a require gate: %d %s", st, body)
	}
}
