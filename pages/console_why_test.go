package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestConsoleSaysWhyItAsksAgain: an admin with an authenticator app who
// signed in with a text is sent to the verify page, which says why, in
// her language, and offers the app (no texts, which cannot open the
// console for her: TestTheConsoleOffersNoTextThatCannotOpenIt); an admin
// whose sign-in is stale is told that instead. A sign-in that is not the
// console's says neither.
func TestConsoleSaysWhyItAsksAgain(t *testing.T) {
	sitetest.Parallel(t)
	s, c, secret := atTheConsolesVerify(t)
	page := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, `<p class="notice" id="why">The console needs your authenticator app or passkey: a texted code is not enough for it.</p>`)
	if !strings.Contains(page.Text, `<details class="app" open>`) || strings.Contains(page.Text, `value="send"`) {
		t.Fatalf("the app is not offered, or texts are:\n%s", page.Text)
	}
	c.Header = http.Header{"Accept-Language": {"de"}}
	sitetest.ExpectBody(t, c.Get("/.smsgate/verify"), "Die Konsole braucht Ihre Authenticator-App oder Ihren Passkey")
	c.Header = nil

	// With the app: the console; six minutes later, stale: told so.
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/admin/")
	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusOK, "")
	s.Advance(6 * time.Minute)
	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusSeeOther, "/.smsgate/verify")
	page = c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, "The console needs a sign-in from the last few minutes")
	if strings.Contains(page.Text, "not enough for it") {
		t.Fatal("a stale sign-in by the app is told a text is not enough")
	}

	// A sign-in for the site itself says nothing of the console.
	other := sitetest.NewClient(t, "")
	tok = other.CSRF("/.smsgate/login")
	sitetest.Expect(t, other.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if page := other.Get("/.smsgate/verify"); strings.Contains(page.Text, `id="why"`) {
		t.Fatalf("a sign-in for the site says why the console asks:\n%s", page.Text)
	}
}
