package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// TestAnAdminsConsoleResetOfHerselfResetsHer (attack37 F1): an admin
// resets her own account at the console (a thief's phone among hers). The
// reset's preparation writes her revocation, the very record her
// session's guard read; that write no longer breaks the guard (a change's
// own write moves what the guard holds), so the reset is done: her phones
// and recovery codes go, she is signed out, admin_reset is audited.
// Before, every write after the preparation was refused: her sessions
// ended, her phones and codes stayed, and the page answered 303 as if
// done. On Badger and on Redis.
func TestAnAdminsConsoleResetOfHerselfResetsHer(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s := startWindowSite(t, kind, "zoe", [2]string{"zoe", "+14155550171"}, [2]string{"zoe", "+14155550172"}, [2]string{"yan", "+14155550173"})
			c := s.signIn(t, "zoe")
			sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {c.CSRF("/.smsgate/devices")}}), http.StatusSeeOther, "/.smsgate/recovery")
			if codes := sitetest.RecoveryCode.FindAllStringSubmatch(c.Get("/.smsgate/recovery").Text, -1); len(codes) == 0 {
				t.Fatal("no recovery codes shown")
			}
			before := s.users()
			page := "/.smsgate/admin/user?name=zoe"
			sitetest.Expect(t, c.Get(page), http.StatusOK, "")
			c.SetCookie(pages.KnownCookie, "none")
			form := url.Values{"action": {"reset"}, "confirm": {"1"}, "csrf": {c.CSRF("/.smsgate/devices")}}
			res := c.PostWith(page, form, map[string]string{"Origin": c.Base()})
			if after := s.users(); strings.Contains(after, `"user":"zoe"`) || !strings.Contains(after, `"user":"yan"`) {
				t.Errorf("her reset of her own account: %d %s; her phones or codes stayed:\nbefore %s\nafter  %s", res.StatusCode, res.Header.Get("Location"), before, after)
			}
			if home := c.Get("/"); home.StatusCode == http.StatusOK {
				t.Errorf("still signed in after her reset of herself")
			}
			if resets := s.LogEntries("admin_reset"); len(resets) != 1 || resets[0]["user"] != "zoe" {
				t.Errorf("the reset's audit: %v; want one admin_reset of zoe", resets)
			}
		})
	}
}
