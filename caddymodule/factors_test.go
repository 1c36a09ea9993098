package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/caddymodule"
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
	s := startSite(t, requireSite)
	c := newClient(t, "")
	signIn(t, s, c)
	if res := c.get("/admin/x"); res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/admin/.smsgate/login") {
		t.Fatalf("a texted session on the app-only route: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	texts := s.sent
	sent := texts()
	tok := csrfField.FindStringSubmatch(c.get("/admin/.smsgate/login?rd=/admin/x").body)[1]
	expect(t, c.post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	page := c.get("/admin/.smsgate/verify")
	if !strings.Contains(page.body, "asks for a sign-in with an authenticator app") || strings.Contains(page.body, "Send me a code") ||
		strings.Contains(page.body, "I don&#39;t have my phone") || !strings.Contains(page.body, "Use my authenticator app") {
		t.Fatalf("the verify page of the app-only route:\n%s", page.body)
	}
	if res := c.post("/admin/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("asking the app-only route for a text: %d", res.StatusCode)
	}
	if n := texts(); n != sent {
		t.Fatalf("the app-only route sent %d texts", n-sent)
	}

	// carol adds an app (on the main devices page), then uses it here.
	tok2 := c.csrf("/.smsgate/devices")
	res := c.post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok2}})
	secret := appSecret.FindStringSubmatch(res.body)[1]
	c.post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {appCode(t, secret)}, "csrf": {tok2}})
	caddymodule.Advance(30 * time.Second)
	tok = csrfField.FindStringSubmatch(c.get("/admin/.smsgate/login?rd=/admin/x").body)[1]
	c.post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	expect(t, c.post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {appCode(t, secret)}, "remember": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/x")
	if res := c.get("/admin/x"); res.StatusCode != http.StatusOK || res.body != "admin carol (otp)" {
		t.Fatalf("the app's session on the app-only route: %d %q", res.StatusCode, res.body)
	}

	// The browser is trusted (by the app's code). Once the session is
	// over, the trust brings one back, which the route still turns away.
	caddymodule.Advance(2 * time.Hour)
	expect(t, c.get("/admin/.smsgate/login?rd=/admin/x"), http.StatusSeeOther, "/admin/x")
	if res := c.get("/admin/x"); res.StatusCode == http.StatusOK {
		t.Fatalf("a trusted browser's session passed a route that requires an app: %q", res.body)
	}
}

// TestFactorsConfig: factors leaves kinds out (no apps offered when totp
// is not named), and a policy that cannot work fails to load.
func TestFactorsConfig(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		factors sms
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}"
}`)
	c := newClient(t, "")
	signIn(t, s, c)
	page := c.get("/.smsgate/devices")
	if strings.Contains(page.body, "authenticator app") || strings.Contains(page.body, "passkey") {
		t.Fatalf("a gate with factors sms offers more:\n%s", page.body)
	}
	tok := csrfField.FindStringSubmatch(page.body)[1]
	if res := c.post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("adding an app where factors leave it out: %d", res.StatusCode)
	}
	for cfg, want := range map[string]string{
		"factors sms voice":             "factors voice: the channels do not include voice",
		"factors totp":                  "name sms or voice too",
		"factors sms\n\t\trequire totp": "require totp: this gate does not take totp",
		"factors sms fax":               "use sms, voice, totp or webauthn, at Caddyfile:5",
	} {
		assertLoadError(t, `http://localhost:{HTTP_PORT} {
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
// through it; a realm served only by require gates gets no invite, but an
// error that says why.
func TestInvitesLeadToAGateThatEnrolls(t *testing.T) {
	s := startSite(t, requireSite)
	st, body := admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"frank","ttl":"1h"}`)
	var inv struct{ Path string }
	if err := json.Unmarshal([]byte(body), &inv); st != http.StatusOK || err != nil || !strings.HasPrefix(inv.Path, "/.smsgate/invite?token=") {
		t.Fatalf("invite: %d %s", st, body)
	}
	c := newClient(t, "")
	tok := csrfField.FindStringSubmatch(c.get(inv.Path).body)[1]
	token := strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
	expect(t, c.post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
	expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {"+14155552680"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expectEnrolled(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), "/")

	startSite(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		require totp
		store badger {DIR}
		provider log
	}
	respond "admin"
}`)
	st, body = admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"frank"}`)
	if st != http.StatusConflict || !strings.Contains(body, "no phone can be enrolled") {
		t.Fatalf("an invite for a realm served only by a require gate: %d %s", st, body)
	}
}
