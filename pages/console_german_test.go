package pages_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// englishLeft finds the English the German catalogue translates, as a
// page shows it: a whole text between tags, or a whole attribute a screen
// reader says (aria-label, alt, placeholder, title).
type englishLeft struct {
	texts []*regexp.Regexp
}

// newEnglishLeft reads the built-in catalogues: each English text (an
// id's, or a page's own words) whose German differs, its arguments
// ({n}, {time}) matching anything.
func newEnglishLeft(t *testing.T) *englishLeft {
	t.Helper()
	read := func(lang string) map[string]string {
		raw, err := os.ReadFile("../words/catalogue/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	en, de := read("en"), read("de")
	arg := regexp.MustCompile(`\\\{\w+\\\}`)
	e := &englishLeft{}
	add := func(english, german string) {
		if german == "" || german == english || !strings.ContainsFunc(english, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
			return // the same in both (Passkey, SMS), or no word
		}
		e.texts = append(e.texts, regexp.MustCompile(`^`+arg.ReplaceAllString(regexp.QuoteMeta(english), `.+`)+`$`))
	}
	for key, german := range de {
		if english, isID := en[key]; isID {
			add(english, german)
		} else if !strings.Contains(key, ".") || strings.Contains(key, " ") {
			add(key, german) // a page's own words: the key is the English
		}
	}
	return e
}

var (
	tagOrComment = regexp.MustCompile(`(?s)<!--.*?-->|<[^>]*>`)
	spokenAttr   = regexp.MustCompile(`\s(?:aria-label|alt|placeholder|title)="([^"]*)"`)
)

// in returns the English texts left on page.
func (e *englishLeft) in(page string) []string {
	var parts []string
	for _, m := range spokenAttr.FindAllStringSubmatch(page, -1) {
		parts = append(parts, m[1])
	}
	parts = append(parts, tagOrComment.Split(page, -1)...)
	var left []string
	for _, p := range parts {
		p = strings.TrimSpace(html.UnescapeString(p))
		for _, re := range e.texts {
			if p != "" && re.MatchString(p) {
				left = append(left, p)
				break
			}
		}
	}
	return left
}

// TestConsoleInGerman: every page of the console, asked for in German,
// is German: no text is left in English that the German catalogue has
// (people, a user with devices, a trusted browser, sessions and an
// invite, what happened, what it costs, a change's message).
func TestConsoleInGerman(t *testing.T) {
	sitetest.Parallel(t)
	english := newEnglishLeft(t)
	if len(english.texts) < 100 {
		t.Fatalf("only %d English texts read from the catalogues", len(english.texts))
	}
	s := sitetest.Start(t, sitetest.InvitingSite)
	carol, admin := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	// Carol trusts her browser, from a German page: the console lists it
	// (by the name it got then, as a device keeps its name) and her session.
	carol.Header = http.Header{"User-Agent": {sitetest.FirefoxOnLinux}, "Accept-Language": {"de"}}
	s.Advance(time.Minute)
	tok := carol.CSRF("/.smsgate/login")
	sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "remember": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/")
	admin.Header = http.Header{"Accept-Language": {"de-DE,de;q=0.9,en;q=0.5"}}
	sitetest.SignInAs(t, s, admin, "alice")

	check := func(name string, res *sitetest.Response) {
		t.Helper()
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `<html lang="de">`) {
			t.Fatalf("%s: %d, not German:\n%s", name, res.StatusCode, res.Text)
		}
		if left := english.in(res.Text); len(left) > 0 {
			t.Errorf("%s in German holds English: %q", name, left)
		}
	}
	check("people", admin.Get("/.smsgate/admin/"))
	check("a search that finds nobody", admin.Get("/.smsgate/admin/?q=nobody"))
	path := "/.smsgate/admin/user?name=carol"
	page := admin.Get(path)
	check("a user", page)
	sitetest.ExpectBody(t, page, "Diese Sitzung beenden")
	sitetest.ExpectBody(t, page, "Firefox unter Linux, auf localhost:{HTTP_PORT}")
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	// An invite for dan (the config gives carol her phone, and her none).
	dan := "/.smsgate/admin/user?name=dan"
	check("a user, with an invite", sitetest.ConsoleDone(t, consolePost(admin, dan, url.Values{"action": {"invite"}, "csrf": {tok}}, s.Base), "invite"))
	res := consolePost(admin, path, url.Values{"action": {"invite"}, "csrf": {tok}}, s.Base)
	if left := english.in(res.Text); res.StatusCode != http.StatusConflict || !strings.Contains(res.Text, "Die Telefonnummer dieses Benutzers ist in der Konfiguration hinterlegt") || len(left) > 0 {
		t.Errorf("an invite for carol, whose phone the config gives: %d, English left %q\n%s", res.StatusCode, left, res.Text)
	}
	res = sitetest.ConsoleDone(t, consolePost(admin, path, url.Values{"action": {"end"}, "session": {sessionRow(t, page.Text, "Firefox")}, "csrf": {tok}}, s.Base), "end")
	check("a user, a session ended", res)
	sitetest.ExpectBody(t, res, "Die Sitzung ist beendet")
	res = consolePost(admin, path, url.Values{"action": {"end"}, "session": {"GONE"}, "csrf": {tok}}, s.Base)
	sitetest.ExpectBody(t, res, "carol hat keine solche Sitzung")
	check("someone with no devices", admin.Get("/.smsgate/admin/user?name=nobody"))
	// Each page's title names its section first (walk33: all were "Konsole").
	for path, title := range map[string]string{"/.smsgate/admin/": "Personen · Konsole", "/.smsgate/admin/events": "Ereignisse · Konsole", "/.smsgate/admin/costs": "Was es kostet · Konsole"} {
		sitetest.ExpectBody(t, admin.Get(path), "<title>"+title)
	}
	check("what happened", admin.Get("/.smsgate/admin/events"))
	check("what happened, filtered", admin.Get("/.smsgate/admin/events?kind=admin_&user=carol"))
	check("what it costs", admin.Get("/.smsgate/admin/costs"))

	// The check finds English where there is some.
	if left := english.in("<body><p>Sign out everywhere</p><button aria-label=\"End this session (signed in 1 Jan 15:04)\">x</button></body>"); len(left) != 2 {
		t.Fatalf("the check found %q in English text", left)
	}
}
