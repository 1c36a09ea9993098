package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnotherAppNeedsTheAppNotAText: carol holds an authenticator app, and
// /admin requires one. Whoever has her texts (a SIM swap) signs in by SMS
// in another browser: the devices page must not let that session add an
// app of its own (which would then open /admin), nor remove carol's: the
// change asks for a step-up with her app, and the verify step offers no
// text, no call and no recovery code for it. carol herself, signed in by
// text, adds a second app once her first app's code is typed. Before, a
// fresh texted session added an app at once, and its code opened /admin.
// (The first app is added from a texted session: nothing stronger exists
// yet — SECURITY.md says so.)
func TestAnotherAppNeedsTheAppNotAText(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, requireSite)
	secret := addApp(t, s, sitetest.NewClient(t, ""))

	s.Advance(time.Minute)
	thief := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, thief)
	tok := thief.CSRF("/.smsgate/devices")
	for _, form := range []url.Values{
		{"action": {"app"}},
		{"action": {"app-confirm"}, "code": {"123456"}},
		{"action": {"passkey"}},
		{"action": {"remove"}, "device": {appID(t, thief)}, "confirm": {"1"}},
	} {
		form.Set("csrf", tok)
		res := thief.Post("/.smsgate/devices", form)
		if appSecret.MatchString(res.Text) || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/.smsgate/verify" {
			t.Fatalf("a texted session's %s on the devices page of a user with an app: %d %s", form.Get("action"), res.StatusCode, res.Header.Get("Location"))
		}
		page := thief.Get("/.smsgate/verify")
		if strings.Contains(page.Text, "Send me a code") || strings.Contains(page.Text, "Call me") || strings.Contains(page.Text, "I don&#39;t have my phone") ||
			!strings.Contains(page.Text, "Use my authenticator app") {
			t.Fatalf("the step-up for %s offers more than the app:\n%s", form.Get("action"), page.Text)
		}
		sent := s.Sent()
		for _, try := range []url.Values{{"action": {"send"}}, {"action": {"call"}}, {"code": {"123456"}}} {
			try.Set("csrf", tok)
			if res := thief.Post("/.smsgate/verify", try); res.StatusCode != http.StatusBadRequest || s.Sent() != sent {
				t.Fatalf("the step-up for %s took %v: %d, %d sent", form.Get("action"), try, res.StatusCode, s.Sent()-sent)
			}
		}
	}
	if res := thief.Get("/admin/x"); res.StatusCode == http.StatusOK {
		t.Fatalf("the texted session reached /admin: %q", res.Text)
	}

	// carol, signed in by text in a new browser, adds a second app with
	// her first one's code.
	s.Advance(time.Minute)
	addAnotherApp(t, s, sitetest.NewClient(t, ""), secret)
}

// addAnotherApp signs c in as carol by text and adds a second app, with a
// step-up by the app whose secret is first; it returns the new secret.
func addAnotherApp(t *testing.T, s *sitetest.Site, c *sitetest.Client, first string) string {
	t.Helper()
	sitetest.SignIn(t, s, c)
	tok := c.CSRF("/.smsgate/devices")
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, first)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	res := c.Get("/.smsgate/devices") // the change kept for after the step-up: the new app's secret
	m := sitetest.CSRFField.FindStringSubmatch(res.Text)
	if m == nil {
		t.Fatalf("after the app's step-up: %d\n%s", res.StatusCode, res.Text)
	}
	return confirmApp(t, c, m[1], res)
}

// appID is the ID of the user's app, from the devices page's JSON.
func appID(t *testing.T, c *sitetest.Client) string {
	t.Helper()
	res := c.GetWith("/.smsgate/devices", map[string]string{"Accept": "application/json"})
	i := strings.Index(res.Text, `"kind":"app"`)
	j := strings.LastIndex(res.Text[:max(i, 0)], `"id":"`)
	if i < 0 || j < 0 {
		t.Fatalf("no app on the devices page: %s", res.Text)
	}
	id := res.Text[j+len(`"id":"`):]
	return id[:strings.IndexByte(id, '"')]
}

// TestAStrongStepUpTakesNoRecoveryCodeWhereNoAppCounts: carol holds an
// app (added at the site's gate) and recovery codes; a gate of the same
// realm that takes texts only lists the app, and its removal there steps
// up with an app or a passkey — which that gate takes neither of. Its
// step-up must take no recovery code either. Before, StrongOnly there
// required nothing, so a recovery code was taken (used up), and the
// change, still wanting an app, sent her back to the step-up: each try
// spent a code for nothing. Now the devices page refuses the change at
// once, saying where it can be made (strongElsewhere), and no step-up
// begins: the recovery code stays unused.
func TestAStrongStepUpTakesNoRecoveryCodeWhereNoAppCounts(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	handle /sms* {
		smsgate {
			identity none
			user carol +14155552671
			path_prefix /sms/.smsgate/
			factors sms
			store badger {DIR}
			provider log
		}
		respond "sms {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id}"
	}
}`)
	c := sitetest.NewClient(t, "")
	addApp(t, s, c)
	s.Advance(time.Minute)
	tok := c.CSRF("/sms/.smsgate/login")
	sitetest.Expect(t, c.Post("/sms/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/sms/.smsgate/verify")
	sitetest.Expect(t, c.Post("/sms/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	tok = c.CSRF("/sms/.smsgate/devices")
	sitetest.Expect(t, c.Post("/sms/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/sms/.smsgate/recovery")
	codes := sitetest.RecoveryCode.FindAllStringSubmatch(c.Get("/sms/.smsgate/recovery").Text, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	devices := c.GetWith("/sms/.smsgate/devices", map[string]string{"Accept": "application/json"}).Text
	i := strings.Index(devices, `"kind":"app"`)
	j := strings.LastIndex(devices[:max(i, 0)], `"id":"`)
	if i < 0 || j < 0 {
		t.Fatalf("the texts-only gate lists no app: %s", devices)
	}
	id := devices[j+len(`"id":"`):]
	id = id[:strings.IndexByte(id, '"')]
	tok = c.CSRF("/sms/.smsgate/devices")
	res := c.Post("/sms/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "confirm": {"1"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "you first sign in with an authenticator app, which this page does not take")
	if !strings.Contains(c.GetWith("/sms/.smsgate/devices", map[string]string{"Accept": "application/json"}).Text, `"kind":"app"`) {
		t.Fatal("the app was removed without being proved")
	}
	// The code is unused: it signs carol in at the site's gate.
	other := sitetest.NewClient(t, "")
	otok := other.CSRF("/.smsgate/login")
	sitetest.Expect(t, other.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {otok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, other.Post("/.smsgate/verify", url.Values{"code": {codes[0][1]}, "csrf": {otok}}), http.StatusSeeOther, "/")
}
