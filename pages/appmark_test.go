package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// inputTag finds an input by its id.
func inputTag(page, id string) string {
	return regexp.MustCompile(`<input[^>]* id="` + id + `"[^>]*>`).FindString(page)
}

// TestAWrongAppCodeMarksTheAppsField: through a real Caddy, on a verify
// page with both a texted code's field and the app's, a wrong app code
// marks the app's field (aria-invalid, the error as its description, the
// focus), and leaves the texted code's unmarked; a wrong texted code marks
// the texted code's. Before, a wrong app code marked the texted code's
// field, which she had not typed in (walk29).
func TestAWrongAppCodeMarksTheAppsField(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	addApp(t, s, sitetest.NewClient(t, ""))
	s.Advance(time.Minute)

	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if !strings.Contains(c.Get("/.smsgate/verify").Text, `id="code"`) { // the app first: a text asked for
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	}
	res := c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {"000000"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	texted, app := inputTag(res.Text, "code"), inputTag(res.Text, "app-code")
	if texted == "" || app == "" {
		t.Fatalf("not a page with both fields:\n%s", res.Text)
	}
	if strings.Contains(texted, "aria-invalid") || strings.Contains(texted, "autofocus") {
		t.Errorf("a wrong app code marks the texted code's field: %s", texted)
	}
	if !strings.Contains(app, `aria-invalid="true"`) || !strings.Contains(app, `aria-describedby="error"`) || !strings.Contains(app, "autofocus") {
		t.Errorf("a wrong app code leaves the app's field unmarked: %s", app)
	}
	if strings.Count(res.Text, "autofocus") != 1 {
		t.Errorf("%d fields ask for the focus", strings.Count(res.Text, "autofocus"))
	}

	res = c.Post("/.smsgate/verify", url.Values{"code": {"000000"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	if texted, app := inputTag(res.Text, "code"), inputTag(res.Text, "app-code"); !strings.Contains(texted, `aria-invalid="true"`) || strings.Contains(app, "aria-invalid") {
		t.Errorf("a wrong texted code: its field %s, the app's %s", texted, app)
	}
}
