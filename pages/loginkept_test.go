package pages_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheLoginFormKeepsWhatWasTyped (walk37: ben's second sign-in at the
// German login form, 81-login-wait-de-360-light): a login form that
// refuses to send yet ("Please wait … before requesting another code": a
// second sign-in within the cooldown) shows the name or number typed
// again in its field, the error describing it, as the enroll form keeps a
// number. Before, the field came back empty, to be typed again.
func TestTheLoginFormKeepsWhatWasTyped(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Carol(t, "")
	for _, typed := range []string{"carol", "+1 415 555 2671"} {
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		c.Post("/.smsgate/login", url.Values{"username": {typed}, "csrf": {tok}})
		tok = c.CSRF("/.smsgate/login")
		page := c.Post("/.smsgate/login", url.Values{"username": {typed}, "csrf": {tok}})
		if !strings.Contains(page.Text, "Please wait") {
			t.Fatalf("%q the second time: %d, %q", typed, page.StatusCode, page.Text)
		}
		// html/template writes a value's "+" as "&#43;".
		if want := `id="username" name="username" value="` + strings.ReplaceAll(typed, "+", "&#43;") + `"`; !strings.Contains(page.Text, want) {
			field, _, _ := strings.Cut(page.Text[strings.Index(page.Text, `id="username"`):], ">")
			t.Errorf("%q the second time: the field is not filled again (want %s): %s", typed, want, field)
		}
		if !strings.Contains(page.Text, `aria-describedby="error"`) {
			t.Errorf("%q the second time: the field is not described by the error", typed)
		}
	}
}
