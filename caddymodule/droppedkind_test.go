package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestADroppedKindOpensNothing: carol signs in with a texted code (and
// trusts her browser); the admin then drops sms from the gate's factors
// (a reload: say, after SIM-swap fears). Her texted session must open
// nothing any more — not the app (a gate without require), not the
// forward-auth check — and her trust, earned by a text, must not bring
// one back; she signs in again with a kind the gate still takes (a call),
// whose session opens the app. Both ways a gate checks a session: with
// carol named in the Caddyfile (each check made) and without (a gate
// where every session used to pass, hot.anySession). Before, the texted
// session was admitted everywhere: a gate with no require took any kind.
func TestADroppedKindOpensNothing(t *testing.T) {
	sitetest.Parallel(t)
	for _, named := range []bool{true, false} {
		t.Run(fmt.Sprint("named=", named), func(t *testing.T) {
			sitetest.Parallel(t)
			userLine := ""
			if named {
				userLine = "user carol +14155552671"
			}
			site := func(store, factors string) *sitetest.Site {
				return sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		enrollment closed
		channels sms voice
		`+userLine+`
		`+factors+`
		store badger `+store+`
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`)
			}
			s := site("{DIR}", "")
			if !named {
				addUser(t, s, "carol", "+14155552671")
			}
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "remember": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/")
			sitetest.ExpectBody(t, c.Get("/"), "Hello, carol (sms)")
			if res := c.GetWith("/.smsgate/auth", map[string]string{"Accept": "application/json"}); res.StatusCode != http.StatusOK {
				t.Fatalf("forward auth with the texted session before: %d", res.StatusCode)
			}

			s = site(s.Store, "factors voice totp")
			if res := c.Get("/"); res.StatusCode == http.StatusOK {
				t.Fatalf("a texted session opened a gate that no longer takes sms: %q", res.Text)
			}
			if res := c.GetWith("/.smsgate/auth", map[string]string{"Accept": "application/json"}); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("forward auth with a texted session at a gate that no longer takes sms: %d %s", res.StatusCode, res.Header.Get("Remote-User"))
			}
			// The trust, earned by a text, brings no session back.
			if res := c.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
				t.Fatalf("a trust earned by a text signed carol in at a gate that no longer takes sms")
			}

			// A call signs her in, and its session opens the app.
			s.Advance(time.Minute)
			tok = c.CSRF("/.smsgate/login")
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			msgs := s.LogEntries("verification code")
			last := msgs[len(msgs)-1]
			spoken := regexp.MustCompile(`\d(?:, \d)+`).FindString(fmt.Sprint(last["body"]))
			if last["channel"] != "voice" || spoken == "" {
				t.Fatalf("the new sign-in's code went by %v (%v), want a call", last["channel"], last["body"])
			}
			code := strings.NewReplacer(", ", "").Replace(spoken)
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), http.StatusSeeOther, "/")
			if res := c.Get("/"); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "Hello, carol (tel)") {
				t.Fatalf("a called session at the gate that takes voice: %d %q", res.StatusCode, res.Text)
			}
			if res := c.GetWith("/.smsgate/auth", map[string]string{"Accept": "application/json"}); res.StatusCode != http.StatusOK {
				t.Fatalf("forward auth with a called session: %d", res.StatusCode)
			}
		})
	}
}
