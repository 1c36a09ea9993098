package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAWrongCodeKeepsTheTrustTick (walk29, 05-wrong-code-untick.png): she
// ticked "Trust this browser for 30 days" and mistyped the code; the page
// that asks again keeps her tick (before: always unticked, so the right code
// next signed her in untrusted). One she did not tick stays unticked.
// Through a real Caddy.
func TestAWrongCodeKeepsTheTrustTick(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, trustSite)
	ticked := regexp.MustCompile(`<input type="checkbox" name="remember" value="1" checked>`)
	for _, remember := range []string{"1", ""} {
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		wrong := "000000"
		if s.LastCode() == wrong {
			wrong = "111111"
		}
		res := c.Post("/.smsgate/verify", url.Values{"code": {wrong}, "remember": {remember}, "csrf": {tok}})
		if res.StatusCode == http.StatusSeeOther || !strings.Contains(res.Text, `name="remember"`) {
			t.Fatalf("a wrong code: %d\n%s", res.StatusCode, res.Text)
		}
		if got := ticked.MatchString(res.Text); got != (remember == "1") {
			t.Errorf("ticked %q: the box comes back ticked %v", remember, got)
		}
		s.Advance(61e9) // past the cooldown, for the next browser's code
	}
}

// TestAWrongRecoveryCodeIsSaidAtItsField (walk29, 70-de-wrong-recovery.png):
// a refused recovery code's field is focused (not the texted code's), says
// it is invalid, is described by the error, and keeps what was typed — a
// code refused as wrong is not (or no longer) a valid one, and she may have
// mistyped one character of eleven. Through a real Caddy, in German too.
func TestAWrongRecoveryCodeIsSaidAtItsField(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	_, codes := annInvited(t, s)
	wrong := "ABCDE-FGH23"
	if codes[0] == wrong {
		wrong = "ABCDE-FGH24"
	}
	for _, lang := range []string{"en", "de"} {
		s.Advance(61e9)
		c := sitetest.NewClient(t, "")
		c.Header = http.Header{"Accept-Language": {lang}}
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		res := c.Post("/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {tok}})
		if res.StatusCode == http.StatusSeeOther {
			t.Fatalf("%s: a wrong recovery code signed in", lang)
		}
		field := regexp.MustCompile(`<input type="text" id="recovery-code"[^>]*>`).FindString(res.Text)
		for _, want := range []string{` autofocus`, ` aria-invalid="true"`, ` aria-describedby="error recovery-hint"`, ` value="` + wrong + `"`} {
			if !strings.Contains(field, want) {
				t.Errorf("%s: the recovery field lacks %q: %s", lang, want, field)
			}
		}
		code := regexp.MustCompile(`<input type="text" id="code"[^>]*>`).FindString(res.Text)
		if strings.Contains(code, "autofocus") || strings.Contains(code, "aria-invalid") {
			t.Errorf("%s: the texted code's field claims the error: %s", lang, code)
		}
		if !regexp.MustCompile(`id="error" role="alert" aria-live="assertive">[^<]+</p>`).MatchString(res.Text) {
			t.Errorf("%s: no error is said", lang)
		}
		if !strings.Contains(res.Text, `<details class="recovery" open>`) {
			t.Errorf("%s: the recovery form is folded away", lang)
		}
	}
}
