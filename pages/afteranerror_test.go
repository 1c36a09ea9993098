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

// TestTheOnlyPhoneOffersNoRemove (walk29, 17, 18, 34): her only phone, where
// the site does not allow removing the last, is offered no Remove — the
// devices page says why instead — and a removal asked from an older page is
// refused at once with why, not first confirmed with "your other phones will
// be told" (before: that confirmation, then 400 "This is your only phone").
// With allow_remove_last, Remove is offered as ever. Through a real Caddy,
// in German too.
func TestTheOnlyPhoneOffersNoRemove(t *testing.T) {
	sitetest.Parallel(t)
	for _, last := range []string{"", "allow_remove_last"} {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		`+last+`
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		c, _ := annInvited(t, s)
		for _, lang := range []string{"en", "de"} {
			c.Header = http.Header{"Accept-Language": {lang}}
			page := c.Get("/.smsgate/devices")
			id := deviceID.FindStringSubmatch(page.Text)[1]
			offered := strings.Contains(page.Text, `value="remove"`)
			if offered != (last != "") || strings.Contains(page.Text, `id="keep-only"`) == offered {
				t.Fatalf("%q %s: Remove offered %v on the only phone:\n%s", last, lang, offered, page.Text)
			}
			if last != "" {
				continue
			}
			tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
			res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "csrf": {tok}})
			if res.StatusCode != http.StatusBadRequest || strings.Contains(res.Text, `class="confirm"`) ||
				!regexp.MustCompile(`id="error" role="alert" aria-live="assertive">[^<]+</p>`).MatchString(res.Text) {
				t.Errorf("%s: removing the only phone: %d\n%s", lang, res.StatusCode, res.Text)
			}
		}
	}
}

// TestTheConsoleAsksForAName (walk29, 41-user-empty.png): People has a
// name field (a GET form to admin/user), not a link to admin/user?name=
// with nothing searched; and admin/user with no name asks for one at its
// field, with no action (invite, sign out everywhere, reset) and no "What
// happened to" link naming nobody. Through a real Caddy, in German too.
func TestTheConsoleAsksForAName(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.NamedUsersSite)
	admin := sitetest.NewClient(t, "")
	sitetest.SignInAs(t, s, admin, "alice")
	field := regexp.MustCompile(`<form method="get" action="/\.smsgate/admin/user" class="find">\s*<label for="name">[^<]+</label>\s*<input type="text" id="name" name="name"[^>]*>`)
	for _, lang := range []string{"en", "de"} {
		admin.Header = http.Header{"Accept-Language": {lang}}
		people := admin.Get("/.smsgate/admin/")
		if people.StatusCode != http.StatusOK || !field.MatchString(people.Text) || strings.Contains(people.Text, `admin/user?name="`) {
			t.Errorf("%s: People has no name field:\n%s", lang, people.Text)
		}
		for _, to := range []string{"/.smsgate/admin/user?name=", "/.smsgate/admin/user"} {
			res := admin.Get(to)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d", lang, to, res.StatusCode)
			}
			f := field.FindString(res.Text)
			if !strings.Contains(f, `aria-invalid="true"`) || !strings.Contains(f, `aria-describedby="error"`) || !strings.Contains(f, "autofocus") {
				t.Errorf("%s %s: no name field said invalid: %q\n%s", lang, to, f, res.Text)
			}
			for _, offered := range []string{`value="invite"`, `value="revoke"`, `value="reset"`, `admin/events?user=`} {
				if strings.Contains(res.Text, offered) {
					t.Errorf("%s %s: offers %s with no name", lang, to, offered)
				}
			}
		}
	}
}

// TestTheConsolesInviteSaysItsTimeAsItsDates (walk29, 72, 73): the invite's
// expiry reads as the console's other dates do, with its minute ("bis
// 14.12.2026 03:12 UTC", not "bis 2026-12-14T03:12:18Z"), and the German
// of a user's page is natural: "Aktionen für dan", not "dan helfen";
// no "dieser Version des Gates". Through a real Caddy, in English too. (An
// invite for dan: the config gives alice and carol their phones, and
// them no invite.)
func TestTheConsolesInviteSaysItsTimeAsItsDates(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.InvitingSite)
	admin := sitetest.NewClient(t, "")
	sitetest.SignInAs(t, s, admin, "alice")
	for lang, want := range map[string]*regexp.Regexp{
		"de": regexp.MustCompile(`Er lässt sich bis \d{1,2}\.\d{1,2}\.20\d\d \d\d:\d\d [A-Z]+ einmal verwenden\.`),
		"en": regexp.MustCompile(`it works once, until \d{1,2} [A-Z][a-z]{2} 20\d\d \d\d:\d\d [A-Z]+\.`),
	} {
		admin.Header = http.Header{"Accept-Language": {lang}}
		path := "/.smsgate/admin/user?name=dan"
		res := sitetest.ConsoleDone(t, consolePost(admin, path, url.Values{"action": {"invite"}, "csrf": {admin.CSRF(path)}}, s.Base), "invite")
		if res.StatusCode != http.StatusOK || !want.MatchString(res.Text) || regexp.MustCompile(`20\d\d-\d\d-\d\dT`).MatchString(res.Text) {
			t.Errorf("%s: the invite's expiry: %d\n%s", lang, res.StatusCode, res.Text)
		}
		if lang != "de" {
			continue
		}
		for _, stilted := range []string{"dan helfen", "dieser Version des Gates"} {
			if strings.Contains(res.Text, stilted) {
				t.Errorf("the German console says %q", stilted)
			}
		}
		sitetest.ExpectBody(t, res, "Aktionen für dan")
	}
}
