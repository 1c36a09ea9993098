package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestACodeToAPhoneTheConfigNoLongerGivesSignsNobodyIn: a provisioned
// user's phone (the config's `user` line, no device record) is stolen with
// their password; the thief asks for a code, which goes to the stolen
// phone; the admin gives the user their new number in the config and
// reloads it before the thief types the code. The code must not sign
// anyone in: the phone it proves is no longer the user's. On Badger and on
// Redis, through a real Caddy. (Before, the challenge's Provisioned mark,
// set at the send, skipped every check of the phone at the check: the
// thief was signed in after the reload.)
func TestACodeToAPhoneTheConfigNoLongerGivesSignsNobodyIn(t *testing.T) {
	sitetest.Parallel(t)
	onEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		config := func(store, phone string) string {
			return `http://localhost:{HTTP_PORT} {
	basic_auth {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		realm localhost
		enrollment closed
		` + store + `
		provider log
		user alice ` + phone + `
	}
	respond "Hello, {http.auth.user.id}!"
}`
		}
		s := sitetest.Start(t, config(storeLine, "+14155552671"))
		thief := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		tok := thief.CSRF("/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()

		// The admin gives alice her new phone: the stolen one is no longer hers.
		s = sitetest.Start(t, config(keep(s), "+447400123456"))
		res := thief.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" || thief.Cookie("smsgate_session") != "" {
			t.Fatalf("a code sent to the phone the config then took from the user signed in: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("after a code to a phone no longer the user's: %d %s", res.StatusCode, res.Text)
		}
		// alice herself still signs in, with her new phone.
		alice := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		tok = alice.CSRF("/.smsgate/verify")
		sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		if res := alice.Get("/"); !strings.Contains(res.Text, "Hello, alice!") {
			t.Fatalf("alice with her new phone: %d %s", res.StatusCode, res.Text)
		}
	})
}
