package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

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
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tuser alice +14155552671\n")
		thief := sitetest.NewClient(t, "alice")
		tok := codeSent(t, thief)
		code := s.LastCode()

		// The admin gives alice her new phone: the stolen one is no longer hers.
		s = textSite(t, keep(s), []string{"alice"}, "\t\tuser alice +447400123456\n")
		thief.HTTP.CloseIdleConnections() // the old config's server closed them
		res := thief.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" || thief.Cookie("smsgate_session") != "" {
			t.Fatalf("a code sent to the phone the config then took from the user signed in: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("after a code to a phone no longer the user's: %d %s", res.StatusCode, res.Text)
		}
		// alice herself still signs in, with her new phone (past the second
		// of the revocation the new number made: a token's iat is in whole
		// seconds).
		alice := sitetest.NewClient(t, "alice")
		s.Advance(time.Second)
		signIn(t, s, alice)
		sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
	})
}
