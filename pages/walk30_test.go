package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnErrorPageTakesTheSignedInBackToTheSite (walk29, 37, 38): bob, signed
// in and no admin, opens the console: its refusal's way out is "Back to the
// site" (to /), not "Start again" (the login, which asked him to confirm it
// is him: a text). A browser not signed in is still offered to start again.
// Through a real Caddy, in German too.
func TestAnErrorPageTakesTheSignedInBackToTheSite(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	bob := sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, bob, "+4915123000002")
	for lang, back := range map[string]string{"en": "Back to the site", "de": "Zurück zur Website"} {
		bob.Header = http.Header{"Accept-Language": {lang}}
		res := bob.Get("/.smsgate/admin/")
		sitetest.Expect(t, res, http.StatusForbidden, "")
		if !strings.Contains(res.Text, `<a href="/" id="home">`+back+`</a>`) || strings.Contains(res.Text, `href="/.smsgate/login"`) {
			t.Errorf("%s: the refusal's way out is not back to the site:\n%s", lang, res.Text)
		}
	}
	// Not signed in: an error page starts again.
	c := sitetest.NewClient(t, "alice")
	c.CSRF("/.smsgate/enroll")
	res := c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550123"}, "csrf": {"forged"}})
	sitetest.Expect(t, res, http.StatusForbidden, "")
	if strings.Contains(res.Text, `id="home"`) || !strings.Contains(res.Text, `<a href="/.smsgate/login">Start again</a>`) {
		t.Errorf("a browser not signed in is not offered to start again:\n%s", res.Text)
	}
}
