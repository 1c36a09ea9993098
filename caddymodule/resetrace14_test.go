package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnAppConfirmedAsTheAdminResetsHerStaysGone (attack14, held): carol
// confirms an authenticator app on her devices page at the moment the
// admin resets her (the admin API), through a real Caddy on Badger and
// Redis: after both, she has no app and her session is gone.
func TestAnAppConfirmedAsTheAdminResetsHerStaysGone(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := carolsSite(t, storeLine, "factors sms totp")
		for round := range 6 {
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
			tok = c.CSRF("/.smsgate/devices")
			m := appSetupSecret.FindStringSubmatch(c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}).Text)
			if m == nil {
				t.Fatal("no app setup")
			}
			form := url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, m[1])}, "csrf": {tok}}
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(round) * time.Millisecond)
				c.Post("/.smsgate/devices", form)
			}()
			go func() {
				defer wg.Done()
				if st, out := s.Admin("POST", "/smsgate/reset", `{"realm":"localhost","user":"carol"}`); st != http.StatusOK {
					t.Errorf("reset: %d %s", st, out)
				}
			}()
			wg.Wait()
			s.Advance(time.Second)
			_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
			if strings.Contains(out, "Authenticator app") {
				t.Fatalf("round %d: an app confirmed as the admin reset carol outlived the reset: %s", round, out)
			}
			if res := c.Get("/"); res.StatusCode == http.StatusOK {
				t.Fatalf("round %d: her session outlived the reset: %s", round, res.Text)
			}
			s.Advance(time.Second)
		}
	})
}
