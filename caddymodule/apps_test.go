package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/caddymodule"
)

var appSecret = regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`)

// appCode is what an authenticator app with secret shows now (on the
// gates' clock).
func appCode(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, caddymodule.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// addApp signs c in as carol by text, adds an authenticator app on the
// devices page and returns its secret.
func addApp(t *testing.T, s *site, c *client) string {
	t.Helper()
	signIn(t, s, c)
	tok := c.csrf("/.smsgate/devices")
	res := c.post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}})
	m := appSecret.FindStringSubmatch(res.body)
	if res.StatusCode != http.StatusOK || m == nil || !strings.Contains(res.body, `src="data:image/png;base64,`) || !strings.Contains(res.body, "otpauth://totp/") {
		t.Fatalf("adding an app: %d\n%s", res.StatusCode, res.body)
	}
	// A wrong first code adds nothing.
	if res := c.post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "Wrong code") {
		t.Fatalf("a wrong first code: %d\n%s", res.StatusCode, res.body)
	}
	res = c.post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {appCode(t, m[1])}, "name": {"Aegis"}, "csrf": {tok}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "Aegis") || !strings.Contains(res.body, "authenticator app") {
		t.Fatalf("confirming the app: %d\n%s", res.StatusCode, res.body)
	}
	return m[1]
}

const appSite = `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`

// TestAuthenticatorApp: through a real Caddy, carol adds an app on her
// devices page (after a texted code), then signs in with it in a fresh
// browser; the session says "otp". The code is good once.
func TestAuthenticatorApp(t *testing.T) {
	s := startSite(t, appSite)
	secret := addApp(t, s, newClient(t, ""))
	caddymodule.Advance(30 * time.Second) // the confirming code is used

	c := newClient(t, "")
	tok := c.csrf("/.smsgate/login")
	expect(t, c.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	page := c.get("/.smsgate/verify")
	if !strings.Contains(page.body, "Use my authenticator app") {
		t.Fatalf("the verify page offers no app:\n%s", page.body)
	}
	code := appCode(t, secret)
	expect(t, c.post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {code}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if res := c.get("/"); res.StatusCode != http.StatusOK || res.body != "Hello, carol (otp)" {
		t.Fatalf("app after an app code: %d %q", res.StatusCode, res.body)
	}

	// The same code, typed again elsewhere, is refused. (This browser
	// names carol by her number: cooldowns count what was typed.)
	d := newClient(t, "")
	tok = d.csrf("/.smsgate/login")
	expect(t, d.post("/.smsgate/login", url.Values{"username": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	res := d.post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {code}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "used already") || d.cookie("smsgate_session") != "" {
		t.Fatalf("a replayed app code: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	// The texted code of that sign-in still works beside it.
	expect(t, d.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// TestAppOnly: a user who keeps only an app (the phone removed: the app
// is a device too, so the phone is not the last) is asked for the app's
// code, with no text offered, and gets in with it.
func TestAppOnly(t *testing.T) {
	c, secret := demoWithApp(t)
	tok := c.csrf("/.smsgate/devices")
	phoneID := regexp.MustCompile(`name="device" value="([A-Z0-9]+)">\s*<label for="name-[A-Z0-9]+">Name</label><input type="text" id="name-[A-Z0-9]+" name="name" value="Phone 1"`).FindStringSubmatch(c.get("/.smsgate/devices").body)
	if phoneID == nil {
		t.Fatal("no phone on the devices page")
	}
	if res := c.post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {phoneID[1]}, "confirm": {"1"}, "csrf": {tok}}); res.StatusCode != http.StatusOK || strings.Contains(res.body, "Phone 1") {
		t.Fatalf("removing the phone beside an app: %d\n%s", res.StatusCode, res.body)
	}
	caddymodule.Advance(30 * time.Second)

	fresh := newClient(t, "demo")
	expect(t, fresh.get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
	page := fresh.get("/.smsgate/verify")
	if !strings.Contains(page.body, "Use my authenticator app") || strings.Contains(page.body, "Send me a code") || strings.Contains(page.body, "Call me") {
		t.Fatalf("the verify page of an app-only user:\n%s", page.body)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/.smsgate/verify", nil)
	req.Header.Set("Accept", "application/json")
	if res := fresh.do(req); !strings.Contains(res.body, `"choices":["otp","recovery"]`) {
		t.Fatalf("the verify step's choices for JSON clients: %s", res.body)
	}
	tok = csrfField.FindStringSubmatch(page.body)[1]
	expect(t, fresh.post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {appCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if res := fresh.get("/"); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.body, "Hello, demo!") {
		t.Fatalf("app: %d %q", res.StatusCode, res.body)
	}
}

// TestAppFirstWhenUsedLast: the verify page opens the app's form when the
// app is the device the user signed in with last, not while a phone is.
func TestAppFirstWhenUsedLast(t *testing.T) {
	_, secret := demoWithApp(t)

	before := newClient(t, "demo")
	before.get("/.smsgate/login")
	if page := before.get("/.smsgate/verify"); !strings.Contains(page.body, `<details class="app">`) || !strings.Contains(page.body, "Send me a code") {
		t.Fatalf("with the phone last used, the app's form should start closed:\n%s", page.body)
	}
	caddymodule.Advance(30 * time.Second)
	tok := csrfField.FindStringSubmatch(before.get("/.smsgate/verify").body)[1]
	expect(t, before.post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {appCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")

	after := newClient(t, "demo")
	after.get("/.smsgate/login")
	if page := after.get("/.smsgate/verify"); !strings.Contains(page.body, `<details class="app" open>`) {
		t.Fatalf("with the app last used, its form should be open:\n%s", page.body)
	}
}

// demoWithApp starts the quickstart site, where demo enrolls a phone and
// then adds an authenticator app; it returns demo's browser and the app's secret.
func demoWithApp(t *testing.T) (*client, string) {
	t.Helper()
	s := basicSite(t, "")
	c := newClient(t, "demo")
	res, tok := enrollWith(t, c, "+14155552671")
	expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	expectEnrolled(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), "/")
	tok = c.csrf("/.smsgate/devices")
	secret := appSecret.FindStringSubmatch(c.post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}).body)[1]
	if res := c.post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {appCode(t, secret)}, "csrf": {tok}}); !strings.Contains(res.body, "Authenticator app 1") {
		t.Fatalf("confirming the app: %d\n%s", res.StatusCode, res.body)
	}
	return c, secret
}
