package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// invalidField finds the one field a page marks aria-invalid.
var invalidField = regexp.MustCompile(`<input [^>]*id="([a-z-]+)"[^>]*aria-invalid="true"`)

// TestWhichCodeWasWrong: through a real Caddy, demo's verify page asks for
// a texted code and one from her app at once (walk33's 25-both-codes). A
// wrong one of either says which was wrong, and marks that field alone
// (aria-invalid, autofocus), on a page no cache keeps; "Wrong code" said
// neither (26-wrong-app-code). Each number says what it counts (walk34's
// 08b/08c: "9 tries left" for the app's, "4" for the texted one's): the
// texted code's own tries, or the wrong codes before sign-in locks where
// that comes first, as an app's always do.
func TestWhichCodeWasWrong(t *testing.T) {
	sitetest.Parallel(t)
	_, _, _ = demoWithApp(t)
	c := sitetest.NewClient(t, "demo")
	c.Get("/.smsgate/login")
	tok := c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	page := c.Get("/.smsgate/verify")
	if !strings.Contains(page.Text, `id="code"`) || !strings.Contains(page.Text, `id="app-code"`) {
		t.Fatalf("the page should ask for both codes:\n%s", page.Text)
	}
	for _, tc := range []struct{ action, says, field string }{
		{"app", "The code from your app is wrong; 9 more wrong codes lock sign-in for a while.", "app-code"},
		{"", "The texted code is wrong; 4 more tries for this code.", "code"},
	} {
		form := url.Values{"code": {"000000"}, "csrf": {tok}}
		if tc.action != "" {
			form.Set("action", tc.action)
		}
		res := c.Post("/.smsgate/verify", form)
		marked := invalidField.FindAllStringSubmatch(res.Text, -1)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, tc.says) || len(marked) != 1 || marked[0][1] != tc.field {
			t.Fatalf("a wrong %q code: %d, want %q and field %s marked alone, got %v\n%s", tc.action, res.StatusCode, tc.says, tc.field, marked, res.Text)
		}
		if !regexp.MustCompile(`<input [^>]*id="` + tc.field + `"[^>]*autofocus`).MatchString(res.Text) {
			t.Fatalf("the wrong code's field %s is not focused:\n%s", tc.field, res.Text)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("the page of a wrong code is cached: %q", cc)
		}
	}
	// In German too.
	res := c.PostWith("/.smsgate/verify", url.Values{"action": {"app"}, "code": {"000000"}, "csrf": {tok}}, map[string]string{"Accept-Language": "de"})
	if !strings.Contains(res.Text, "Der Code aus Ihrer App ist falsch. Noch 7 falsche Codes, dann wird die Anmeldung für eine Weile gesperrt.") {
		t.Fatalf("a wrong app code in German:\n%s", res.Text)
	}
	// Where the lock comes before this code's tries run out, the texted
	// code's number counts the lock's, and says so.
	for range 4 {
		c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {"000000"}, "csrf": {tok}})
	}
	for _, tc := range [][2]string{{"en", "The texted code is wrong; 2 more wrong codes lock sign-in for a while."},
		{"de", "Der Code aus der SMS ist falsch. Noch 1 falscher Code, dann wird die Anmeldung für eine Weile gesperrt."}} {
		lang, says := tc[0], tc[1]
		res := c.PostWith("/.smsgate/verify", url.Values{"code": {"000000"}, "csrf": {tok}}, map[string]string{"Accept-Language": lang})
		if !strings.Contains(res.Text, says) {
			t.Fatalf("a wrong texted code before the lock, in %s: want %q\n%s", lang, says, res.Text)
		}
	}
}
