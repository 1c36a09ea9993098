package pages_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheConsolesStepUpWhenHerAppWasRemovedMeanwhile: through a real
// Caddy, carol (an admin with a phone and an app, signed in with a text)
// is sent by the console to the verify page for her app; while its form
// is open, her app is removed (by another admin: the admin API's remove,
// the console's code). Her open form then admits her by nothing and
// fails by nothing: the app's code, a text asked for by hand, a reload
// each get a clear no (400, or the page) that says her app is gone and
// links back to the console, never a 500, never a text sent, never a
// session. The console, asked again, decides on what she holds now (her
// phone: an admin who holds neither an app nor a passkey opens it with a
// recent text) — its own rule, not this page's.
func TestTheConsolesStepUpWhenHerAppWasRemovedMeanwhile(t *testing.T) {
	sitetest.Parallel(t)
	s, c, secret := atTheConsolesVerify(t)
	page := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, `<details class="app" open>`)
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	session := c.Cookie("smsgate_session")

	if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"carol","id":%q}`, deviceOf(t, s, "carol", "totp"))); st != http.StatusOK {
		t.Fatalf("removing her app: %d %s", st, out)
	}

	gone := `Your authenticator app or passkey is no longer on your account`
	back := `<a href="/.smsgate/admin/" id="back">Back to the console</a>`
	sent := s.Sent()
	for _, try := range []struct {
		name string
		form url.Values
	}{
		{"the removed app's code", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}}},
		{"a text asked for by hand", url.Values{"action": {"send"}}},
		{"a call asked for by hand", url.Values{"action": {"call"}}},
		{"a code typed in", url.Values{"code": {"123456"}}},
	} {
		try.form.Set("csrf", tok)
		res := c.Post("/.smsgate/verify", try.form)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, gone) || !strings.Contains(res.Text, back) {
			t.Errorf("%s, once her app was removed: %d %s, want 400 saying it is gone and linking back to the console:\n%s",
				try.name, res.StatusCode, res.Header.Get("Location"), res.Text)
		}
		if m := alert.FindStringSubmatch(res.Text); m == nil || strings.TrimSpace(m[1]) != "" {
			t.Errorf("%s, once her app was removed: a second message above the notice that it is gone, %q; want that notice alone", try.name, m)
		}
		if c.Cookie("smsgate_session") != session {
			t.Fatalf("%s signed her in anew", try.name)
		}
	}
	if n := s.Sent() - sent; n != 0 {
		t.Errorf("%d texts or calls sent from the console's verify page for her app", n)
	}
	page = c.Get("/.smsgate/verify")
	sitetest.Expect(t, page, http.StatusOK, "")
	sitetest.ExpectBody(t, page, back)
	for _, offer := range []string{`value="send"`, `value="call"`, `id="recovery-code"`, `<details class="app"`, `id="requires"`} {
		if strings.Contains(page.Text, offer) {
			t.Errorf("the page offers %s, which cannot open the console:\n%s", offer, page.Text)
		}
	}

	// Back to the console: she holds her phone alone now, and signed in
	// with it a minute ago: in. Later, a stale sign-in: a new text.
	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusOK, "")
	s.Advance(6 * time.Minute)
	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectBody(t, c.Get("/.smsgate/verify"), `value="send"`)
}

// alert is the page's error line (empty but for a refusal's message).
var alert = regexp.MustCompile(`(?s)<p class="error" id="error"[^>]*>(.*?)</p>`)

// deviceOf is the id of user's first device of kind, as the admin API
// lists it.
func deviceOf(t *testing.T, s *sitetest.Site, user, kind string) string {
	t.Helper()
	_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	var list []struct {
		User    string
		Devices []struct{ ID, Kind string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("users: %v %s", err, out)
	}
	for _, u := range list {
		for _, d := range u.Devices {
			if u.User == user && d.Kind == kind {
				return d.ID
			}
		}
	}
	t.Fatalf("%s has no %s: %s", user, kind, out)
	return ""
}

// TestTheConsolesStepUpWhenSheRemovedHerAppInAnotherTab: as above, but
// carol removes the app herself, in another tab of the same browser,
// while the console's verify page waits in the first: that removal's own
// step-up takes her app's code (the flow is the browser's, now the
// devices page's, its sign-in a new one). The first tab's form, sent
// after, has expired (403: "reload the page"), never a 500, and signs
// nothing in. The session her app's code stepped up in the other tab
// ended with the app (its latest code was the app's): that tab says she
// is signed out, and the console asks her to sign in again. The first
// tab never reaches the console's rule for its verify page (rules: her
// app or passkey only, decided by the flow): the other tab's step-up
// replaced the browser's flow, so this passes with that rule decided by
// her devices read again, as before a737b31 (checked: the two tests of a
// removal by another admin, above and below, fail so).
func TestTheConsolesStepUpWhenSheRemovedHerAppInAnotherTab(t *testing.T) {
	sitetest.Parallel(t)
	// Her phone is the config's, not listed on her devices page: the app
	// is the last device she may remove there.
	s := sitetest.Start(t, strings.Replace(sitetest.AppSite, "provider log", "provider log\n\t\tadmins carol\n\t\tallow_remove_last", 1))
	c := sitetest.NewClient(t, "")
	secret := addApp(t, s, c)
	s.Advance(30 * time.Second) // the confirming code is used

	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusSeeOther, "/.smsgate/verify")
	tok := sitetest.CSRFField.FindStringSubmatch(c.Get("/.smsgate/verify").Text)[1]

	// The other tab: her app removed, after a step-up with its code.
	dtok := c.CSRF("/.smsgate/devices")
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {deviceOf(t, s, "carol", "totp")}, "confirm": {"1"}, "csrf": {dtok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {dtok}}), http.StatusSeeOther, "/.smsgate/devices")
	sitetest.ExpectBody(t, c.Get("/.smsgate/devices"), "You are signed out.")
	deviceGone(t, s, "carol", "totp")
	session := c.Cookie("smsgate_session")

	// The first tab's form, half a minute on (a new code of the app).
	s.Advance(30 * time.Second)
	sent := s.Sent()
	for _, form := range []url.Values{{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}}, {"code": {"123456"}}} {
		form.Set("csrf", tok)
		res := c.Post("/.smsgate/verify", form)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, "This form has expired. Go back, reload the page") {
			t.Errorf("the first tab's %v once her app was removed: %d %s, want 403, the form expired:\n%s", form, res.StatusCode, res.Header.Get("Location"), res.Text)
		}
		if c.Cookie("smsgate_session") != session {
			t.Fatalf("the first tab's %v signed her in anew", form)
		}
	}
	if n := s.Sent() - sent; n != 0 {
		t.Errorf("%d texts sent", n)
	}
	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusSeeOther, "/.smsgate/login")
}

// deviceGone fails t if user still holds a device of kind.
func deviceGone(t *testing.T, s *sitetest.Site, user, kind string) {
	t.Helper()
	_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	if strings.Contains(out, fmt.Sprintf(`"kind":%q`, kind)) && strings.Contains(out, fmt.Sprintf(`"user":%q`, user)) {
		t.Fatalf("%s still holds a %s: %s", user, kind, out)
	}
}

// TestTheConsolesStepUpWhenHerPasskeyWasRemovedMeanwhile: as above, with
// a passkey: removed by another admin while the console's verify page for
// it is open, the ceremony that page starts is refused (4xx, never a 500)
// and signs nothing in; a text asked for there is refused, none sent; the
// page says the passkey is gone and links back to the console.
func TestTheConsolesStepUpWhenHerPasskeyWasRemovedMeanwhile(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, strings.Replace(sitetest.AppSite, "provider log", "provider log\n\t\tadmins carol", 1))
	origin := s.WithPorts(s.Base)
	auth := fakes.NewAuthenticator("localhost", origin)
	c := sitetest.NewClient(t, "")
	registerPasskey(t, s, c, auth)
	tok := c.CSRF("/.smsgate/devices") // the verify page for a passkey alone has no form

	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusSeeOther, "/.smsgate/verify")
	page := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, `id="passkey-use"`)
	session := c.Cookie("smsgate_session")

	if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"carol","id":%q}`, deviceOf(t, s, "carol", "passkey"))); st != http.StatusOK {
		t.Fatalf("removing her passkey: %d %s", st, out)
	}
	sent := s.Sent()
	begin := passkeyCall(c, "login/begin", origin, nil)
	if begin.StatusCode == http.StatusOK {
		answer, err := auth.Get([]byte(begin.Text))
		if err != nil {
			t.Fatalf("the authenticator: %v (begin: %s)", err, begin.Text)
		}
		begin = passkeyCall(c, "login/finish", origin, answer)
	}
	t.Logf("her removed passkey's ceremony: %d %s", begin.StatusCode, begin.Text)
	if begin.StatusCode < 400 || begin.StatusCode >= 500 || c.Cookie("smsgate_session") != session {
		t.Errorf("her removed passkey's ceremony: %d %s, want a 4xx and no new session", begin.StatusCode, begin.Text)
	}
	res := c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, `Your authenticator app or passkey is no longer on your account`)
	if m := alert.FindStringSubmatch(res.Text); m == nil || strings.TrimSpace(m[1]) != "" {
		t.Errorf("a text asked for once her passkey was removed: a second message above the notice that it is gone, %q; want that notice alone", m)
	}
	if n := s.Sent() - sent; n != 0 {
		t.Errorf("%d texts sent", n)
	}
	page = c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, `Your authenticator app or passkey is no longer on your account`)
	sitetest.ExpectBody(t, page, `<a href="/.smsgate/admin/" id="back">Back to the console</a>`)
	if strings.Contains(page.Text, `id="passkey-use"`) || strings.Contains(page.Text, `value="send"`) {
		t.Errorf("the page still offers her passkey, or a text:\n%s", page.Text)
	}
}
