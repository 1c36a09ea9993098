package caddymodule_test

// The whole flow through a real Caddy (internal/sitetest).

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func TestFlowEndToEnd(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "demo")

	// A visit without a session goes to the gate, keeping its target.
	sitetest.Expect(t, c.Get("/app/page?x=1"), http.StatusFound, "/.smsgate/login?rd=%2Fapp%2Fpage%3Fx%3D1")
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2Fapp%2Fpage%3Fx%3D1"), http.StatusSeeOther, "/.smsgate/enroll")

	page := c.Get("/.smsgate/enroll")
	sitetest.Expect(t, page, http.StatusOK, "")
	sitetest.ExpectBody(t, page, `name="phone"`)
	token := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	if s.Sent() != 0 {
		t.Fatal("a GET sent a code")
	}

	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+1 415 555 2671"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
	if s.Sent() != 1 {
		t.Fatalf("%d codes sent for one enrollment", s.Sent())
	}
	verify := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, verify, `autocomplete="one-time-code" inputmode="numeric"`)
	sitetest.ExpectBody(t, verify, "1•••••••671")
	if strings.Contains(verify.Text, "5552671") {
		t.Fatal("the verify page shows the full number")
	}

	res := c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {token}})
	sitetest.ExpectEnrolled(t, res, "/app/page?x=1")
	var sessionCookie *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "smsgate_session" {
			sessionCookie = ck
		}
	}
	if sessionCookie == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode || strings.Count(sessionCookie.Value, ".") != 2 {
		t.Fatalf("session cookie %+v", sessionCookie)
	}

	// The app sees the user, and never the session cookie; other cookies pass.
	c.SetCookie("app_pref", "dark")
	app := c.Get("/app/page?x=1")
	sitetest.Expect(t, app, http.StatusOK, "")
	sitetest.ExpectBody(t, app, "Hello, demo!")
	sitetest.ExpectBody(t, app, "app_pref=dark")
	if strings.Contains(app.Text, "smsgate_") {
		t.Fatalf("a smsgate cookie reached the upstream: %s", app.Text)
	}

	// A new browser session: the phone is known, so verify, not enroll, and
	// the code is sent only when asked for by POST.
	c2 := sitetest.NewClient(t, "demo")
	sitetest.Expect(t, c2.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
	page = c2.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, `name="action" value="send"`)
	sitetest.ExpectBody(t, page, "1•••••••671")
	token2 := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	if s.Sent() != 1 {
		t.Fatal("visiting the verify page sent a code")
	}
	s.Advance(time.Minute) // past the cooldown of the enrollment code
	sitetest.Expect(t, c2.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {token2}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c2.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {token2}}), http.StatusSeeOther, "/")
	sitetest.Expect(t, c2.Get("/"), http.StatusOK, "")

	// Logout ends the session, and a saved copy of the cookie is refused.
	stolen := c2.Cookie("smsgate_session")
	logout := c2.Get("/.smsgate/logout")
	sitetest.ExpectBody(t, logout, `action="/.smsgate/logout"`)
	token2 = sitetest.CSRFField.FindStringSubmatch(logout.Text)[1]
	sitetest.Expect(t, c2.Post("/.smsgate/logout", url.Values{"csrf": {token2}}), http.StatusOK, "")
	sitetest.Expect(t, c2.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	c3 := sitetest.NewClient(t, "demo")
	c3.SetCookie("smsgate_session", stolen)
	sitetest.Expect(t, c3.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	// A logout replayed with the saved cookie ends nothing more: the audit
	// tells of one sign-out.
	for range 2 {
		tok := sitetest.CSRFField.FindStringSubmatch(c3.Get("/.smsgate/logout").Text)[1]
		c3.SetCookie("smsgate_session", stolen) // each logout's answer deletes it
		sitetest.Expect(t, c3.Post("/.smsgate/logout", url.Values{"csrf": {tok}}), http.StatusOK, "")
	}

	// The first browser's session is another session, and still valid.
	sitetest.Expect(t, c.Get("/"), http.StatusOK, "")

	if n := len(s.LogEntries("signed_out")); n != 1 {
		t.Errorf("%d signed_out events for one logout and two replays, want 1", n)
	}
	// Audit events were logged with masked numbers only.
	for _, ev := range []string{"code_sent", "enrolled", "verified", "signed_out"} {
		if len(s.LogEntries(ev)) == 0 {
			t.Errorf("no %s event in the log", ev)
		}
	}
	raw, _ := os.ReadFile(s.LogFile)
	if strings.Contains(string(raw), "4155552671") {
		t.Error("the full phone number appears in the log")
	}
	if strings.Contains(string(raw), sessionCookie.Value) {
		t.Error("a session token appears in the log")
	}
}
