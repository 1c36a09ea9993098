package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestACodeForANumberTheConfigNoLongerAllowsEnrollsNothing: SMS pumping,
// or stolen passwords, through UK numbers; the admin reloads the config
// with deny_prefixes +44 (or narrower allowed_regions) while a first
// phone's code (mallory, enrollment open) and an added phone's code
// (alice, signed in, on the devices page) are texted but not yet typed.
// Neither code may enroll its number: the phone policy is checked by the
// config that checks the code, as it is at every send. On Badger and on
// Redis, through a real Caddy. (Before, both numbers were enrolled after
// the reload.)
func TestACodeForANumberTheConfigNoLongerAllowsEnrollsNothing(t *testing.T) {
	sitetest.Parallel(t)
	for _, narrower := range []string{"deny_prefixes +44", "allowed_regions US"} {
		t.Run(strings.Fields(narrower)[0], func(t *testing.T) {
			// Parallel too: a serial subtest queues again for a slot
			// after its parallel ones, and the second waited for it.
			sitetest.Parallel(t)
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
				site := func(storeLine, policy string) *sitetest.Site {
					return sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice `+sitetest.DemoHash+`
		mallory `+sitetest.DemoHash+`
	}
	smsgate {
		realm localhost
		enrollment open
		`+policy+`
		`+storeLine+`
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
				}
				s := site(storeLine, "")
				addUser(t, s, "alice", "+14155552671")
				s.Advance(time.Minute)
				alice := sitetest.NewClient(t, "alice")
				signIn(t, s, alice)
				aliceTok := alice.CSRF("/.smsgate/devices")
				sitetest.Expect(t, alice.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+447400123457"}, "name": {"Work"}, "csrf": {aliceTok}}), http.StatusSeeOther, "/.smsgate/verify")
				aliceCode := s.LastCode()

				thief := sitetest.NewClient(t, "mallory")
				sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
				thiefTok := thief.CSRF("/.smsgate/enroll")
				sitetest.Expect(t, thief.Post("/.smsgate/enroll", url.Values{"phone": {"+447400123456"}, "csrf": {thiefTok}}), http.StatusSeeOther, "/.smsgate/verify")
				thiefCode := s.LastCode()

				s = site(keep(s), narrower)
				alice.HTTP.CloseIdleConnections() // the old config's server closed them
				thief.HTTP.CloseIdleConnections()
				alice.Post("/.smsgate/verify", url.Values{"code": {aliceCode}, "csrf": {aliceTok}})
				if res := thief.Post("/.smsgate/verify", url.Values{"code": {thiefCode}, "csrf": {thiefTok}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "not accepted here") {
					t.Errorf("the code of a number the config no longer allows: %d, want 400 (the number refused)\n%s", res.StatusCode, res.Text)
				}
				if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, "mallory") || strings.Contains(out, "Work") {
					t.Errorf("a number enrolled after the config stopped allowing it: %s", out)
				}
				if res := thief.Get("/"); res.StatusCode == http.StatusOK {
					t.Errorf("signed in by an enrollment of a number the config no longer allows: %s", res.Text)
				}
			})
		})
	}
}
