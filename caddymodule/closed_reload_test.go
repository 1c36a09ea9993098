package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnEnrollmentTheConfigClosedMeanwhileIsRefused: stolen passwords are
// enrolling phones (trust on first use); the admin closes enrollment and
// reloads the config while a thief's first phone has its code texted but
// not yet typed. The code must enroll nothing and sign nobody in, nor be
// sent again: the
// enrollment is checked against the config that checks the code, as a
// provisioned phone is (an invited user's first phone still enrolls:
// TestAnInviteEnrollsOnlyItsUser). On Badger and on Redis, through a real
// Caddy. (Before, the code enrolled the thief's phone after the reload,
// and signed them in.) Two of his browsers, each with a code pending: one
// types it, the other asks for it again, which ends its code (asked
// first, by the one that types, that end left no code to check).
func TestAnEnrollmentTheConfigClosedMeanwhileIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		site := func(storeLine, enrollment string) *sitetest.Site {
			return sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		mallory `+sitetest.DemoHash+`
	}
	smsgate {
		realm localhost
		enrollment `+enrollment+`
		`+storeLine+`
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		}
		s := site(storeLine, "open")
		enroll := func(phone string) (*sitetest.Client, string) {
			c := sitetest.NewClient(t, "mallory")
			sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
			tok := c.CSRF("/.smsgate/enroll")
			sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {phone}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			return c, tok
		}
		thief, tok := enroll("+14155552671")
		code := s.LastCode()
		s.Advance(time.Minute) // past the cooldown
		again, againTok := enroll("+14155552672")

		s = site(keep(s), "closed")
		thief.HTTP.CloseIdleConnections() // the old config's server closed them
		again.HTTP.CloseIdleConnections()
		s.Advance(time.Minute) // past the cooldown
		sent := s.Sent()
		again.Post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {againTok}})
		again.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {againTok}})
		if s.Sent() != sent {
			t.Errorf("a first phone's code sent again after the config closed enrollment")
		}
		thief.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, "mallory") {
			t.Errorf("a first phone enrolled after the config closed enrollment: %s", out)
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Errorf("signed in by an enrollment the config closed meanwhile: %s", res.Text)
		}
	})
}
