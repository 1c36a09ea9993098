package pages_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheUsersLanguage: a user who enrolled from a German page is texted
// the notices about their account in German, whatever the language of the
// page the change came from; what they add without a name is named in the
// language of the page that shows it (a phone, an app, a trusted
// browser). Before, every notice and default name was English; then
// (walk36's 4) a phone added unnamed on a German page read "Telefon 1" on
// an English one, and a browser trusted there "Firefox unter Linux".
func TestTheUsersLanguage(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "remember 30d")
	c := sitetest.NewClient(t, "alice")
	german := http.Header{"Accept-Language": {"de-DE,de;q=0.9,en;q=0.5"}, "User-Agent": {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}}
	c.Header = german
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "remember": {"1"}, "csrf": {tok}}), "/")

	// A second phone, added without a name on a German page.
	s.Advance(time.Minute)
	tok = c.CSRF("/.smsgate/devices")
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+447400123456"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	page := c.Get("/.smsgate/devices")
	for _, want := range []string{"<h1>Ihre Geräte</h1>", "<strong>Telefon 1</strong>", "<strong>Telefon 2</strong>", "<strong>Firefox unter Linux</strong>", "zuletzt verwendet am "} {
		sitetest.ExpectBody(t, page, want)
	}
	notices := s.Notices()
	if len(notices) != 1 || !strings.HasPrefix(notices[0], "localhost: Ein neues Telefon (+44•••••••456) wurde Ihrem Konto hinzugefügt. Waren Sie das nicht?") || !strings.HasSuffix(notices[0], "→ +1•••••••671") {
		t.Fatalf("the notice of the new phone: %q", notices)
	}

	// Removing it asks in German, naming it as German does.
	id := ""
	for _, m := range deviceID.FindAllStringSubmatch(page.Text, -1) {
		if strings.Contains(page.Text, `id="name-`+m[1]+`" name="name" value="Telefon 2"`) {
			id = m[1]
		}
	}
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	ask := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "csrf": {tok}})
	sitetest.ExpectBody(t, ask, "Telefon 2 (&#43;44•••••••456) entfernen?")
	sitetest.ExpectBody(t, ask, ">Telefon 2 entfernen</button>")

	// The same browser, now in English, confirms; and adds an app. The
	// page is English, the app's name too, and the first phone's. The session named the phone removed (its code, the adding's,
	// was the latest): signed out, it signs in again by its trust, which
	// the first phone earned.
	c.Header = http.Header{"Accept-Language": {"en"}}
	sitetest.ExpectBody(t, c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "confirm": {"1"}, "csrf": {tok}}), "You are signed out.")
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
	tok = c.CSRF("/.smsgate/devices")
	secret := appSecret.FindStringSubmatch(c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}).Text)[1]
	res = c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}})
	sitetest.ExpectBody(t, res, "<strong>Authenticator app 1</strong>")
	sitetest.ExpectBody(t, res, "<strong>Phone 1</strong>")          // added unnamed on a German page: its name is worded here, in English
	sitetest.ExpectBody(t, res, "<strong>Firefox on Linux</strong>") // trusted on a German page: its name is worded here too
	sitetest.ExpectBody(t, res, "<h1>Your devices</h1>")
	notices = s.Notices()
	if len(notices) != 3 || !strings.HasPrefix(notices[1], "localhost: Ein Telefon (+44•••••••456) wurde aus Ihrem Konto entfernt.") ||
		!strings.HasPrefix(notices[2], "localhost: Eine Authenticator-App wurde Ihrem Konto hinzugefügt.") {
		t.Fatalf("notices: %q", notices)
	}
}

// TestAnAdminsCatalogueInPolish: an admin's messages_dir adds Polish, whose
// plurals have three forms for whole numbers; a page in Polish says "4
// tries left" in the form for 2–4 (few), not the form for 1. A Polish
// catalogue with English's two forms does not load, and says what it lacks.
func TestAnAdminsCatalogueInPolish(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	write := func(text string) {
		if err := os.WriteFile(filepath.Join(dir, "pl.json"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"code.wrong.one": "Zły kod; została {n} próba.", "code.wrong.few": "Zły kod; zostały {n} próby.", "code.wrong.many": "Zły kod; zostało {n} prób."}`)
	s := sitetest.Basic(t, "messages_dir "+dir)
	c := sitetest.NewClient(t, "alice")
	c.Header = http.Header{"Accept-Language": {"pl-PL,pl;q=0.9"}}
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	wrong := sitetest.WrongCode(s.LastCode())
	res = c.Post("/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "Zły kod; zostały 4 próby.")

	write(`{"code.wrong.one": "Zły kod; została {n} próba.", "code.wrong.other": "Zły kod; zostało {n} prób."}`)
	sitetest.AssertLoadError(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
		messages_dir `+dir+`
	}
}`, `form (pl needs few, many, one)`)
}
