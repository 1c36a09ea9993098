package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestCodesAProvisionedPhoneMadeEndWithItsNumber: a thief holding
// alice's password and her provisioned phone (the config's `user` line)
// signs in with its code and makes new recovery codes (the renewal's
// notice goes to the phone he holds). The admin gives alice a new number
// and reloads: his session ends, and the codes his session made must end
// with it, or one of them signs him in again. A set the new number's
// session made stays through a reload that changes nothing (a set made
// from a code's session goes with the number whose session made the
// code's set: TestCodesMadeFromTheOldNumbersCodeSessionEndWithTheNumber).
// On Badger and Redis, through a real Caddy. (Before, the thief's
// recovery code answered 303 to / and "Hello, alice!" after the reload.)
func TestCodesAProvisionedPhoneMadeEndWithItsNumber(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		user := func(number string) string { return "\t\tuser alice " + number + "\n" }
		s := textSite(t, storeLine, []string{"alice"}, user("+14155552671"))
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		stolen := renew(t, thief)

		same := keep(s) // the store, for the loads after
		s = textSite(t, same, []string{"alice"}, user("+447400123456"))
		if recoverySignIn(t, s, stolen[0]) {
			t.Fatal("a recovery code the thief made with the phone the config took away signed him in")
		}

		alice := sitetest.NewClient(t, "alice")
		s.Advance(time.Second) // past the revocation's second
		signIn(t, s, alice)
		mine := renew(t, alice)
		s = textSite(t, same, []string{"alice"}, user("+447400123456"))
		rec := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, rec.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, rec.Post("/.smsgate/verify", url.Values{"code": {mine[0]}, "csrf": {rec.CSRF("/.smsgate/verify")}}), http.StatusSeeOther, "/")
	})
}
