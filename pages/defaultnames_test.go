package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnOldDefaultNameIsSaidInThePagesLanguage: the devices the release
// before named by default, in the language of the page that added them
// ("Phone 1" on an English page, "Telefon 2" on a German one: records as
// it wrote them, imported), read as their defaults in the language of the
// page that shows them; a name the user gave ("Work") as it is. Before,
// a German page showed "Phone 1" (walk36's 4). On Badger and Redis,
// through a real Caddy.
func TestAnOldDefaultNameIsSaidInThePagesLanguage(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %s
	}
	smsgate {
		%s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, storeLine))
		if st, out := s.Admin("POST", "/smsgate/import?realm=localhost", `[{"key":"device/localhost/alice","value":[`+
			`{"id":"PHONE001","name":"Phone 1","phone":"+14155552671","enrolled":"2026-11-01T00:00:00Z","last_used":"2026-12-01T00:00:00Z","lang":"en"},`+
			`{"id":"PHONE002","name":"Telefon 2","phone":"+4915112345678","enrolled":"2026-11-02T00:00:00Z","lang":"de"},`+
			`{"id":"PHONE003","name":"Work","phone":"+447400123456","enrolled":"2026-11-03T00:00:00Z","lang":"en"}]}]`); st != http.StatusOK {
			t.Fatalf("importing alice's phones: %d %s", st, out)
		}
		c := sitetest.NewClient(t, "alice")
		c.Header = http.Header{"Accept-Language": {"de-DE,de;q=0.9"}}
		sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		tok := c.CSRF("/.smsgate/verify")
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {"PHONE001"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		for lang, want := range map[string][]string{"de": {"Telefon 1", "Telefon 2", "Work"}, "en": {"Phone 1", "Phone 2", "Work"}} {
			c.Header = http.Header{"Accept-Language": {lang}}
			page := c.Get("/.smsgate/devices")
			for _, name := range want {
				sitetest.ExpectBody(t, page, "<strong>"+name+"</strong>")
			}
		}
	})
}
