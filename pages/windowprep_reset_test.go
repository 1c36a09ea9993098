package pages_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// resetAdmin's reset of resetVictim is held once its first lasting write,
// the victim's revocation record, is written.
const resetAdmin, resetVictim = "rex", "vera"

func init() {
	earlier := sitetest.Holds.Park
	sitetest.Holds.Park = func(op, key string) bool {
		if strings.HasSuffix(key, "/"+resetVictim) || strings.HasSuffix(key, "/"+resetAdmin) {
			return key == endkeys.User("localhost", resetVictim) && op == "write"
		}
		return earlier != nil && earlier(op, key)
	}
}

// TestAnAdminRevokedAfterHerResetsFirstWriteResetsNoOne
// (review36b F2, the console): an admin's reset writes the user's
// revocation first (session.RevokeUser), which spends the guard, then
// removes her phones (Devices.ResetUser) unguarded. The admin's own
// revocation (another instance's sign-out everywhere, or another admin's
// revoke of her) landing between the two lets the reset take the user's
// phones on a session already ended: 303 back to the console, done.
func TestAnAdminRevokedAfterHerResetsFirstWriteResetsNoOne(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			inner := "badger {DIR}"
			if kind == "redis" {
				inner = "redis " + redistest.Server(t)
			}
			dir := t.TempDir()
			s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		admins %s
		store smsgate_test_hold %s %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, resetAdmin, dir, inner))
			for _, u := range [][2]string{{resetAdmin, "+14155550141"}, {resetVictim, "+14155550142"}} {
				if st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"`+u[0]+`","phone":"`+u[1]+`"}`); st != http.StatusOK {
					t.Fatalf("adding: %d %s", st, out)
				}
			}
			users := func() string { _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); return out }
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {resetAdmin}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
			page := "/.smsgate/admin/user?name=" + resetVictim
			sitetest.Expect(t, c.Get(page), http.StatusOK, "")
			before := users()
			c.SetCookie(pages.KnownCookie, "none")
			form := url.Values{"action": {"reset"}, "confirm": {"1"}, "csrf": {c.CSRF("/.smsgate/devices")}}
			held := sitetest.Park(t, dir, func() *sitetest.Response {
				return c.PostWith(page, form, map[string]string{"Origin": c.Base()})
			})
			if parked := users(); parked != before {
				t.Fatalf("held after her phones went, not before:\n%s", parked)
			}
			at, _ := json.Marshal(s.Now().Add(time.Second).UTC())
			sitetest.PutWhileParked(t, dir, endkeys.User("localhost", resetAdmin), at)
			res := held.Release(t)
			if after := users(); after != before {
				t.Errorf("a reset by an admin revoked after its first write and before the phones' removal: %d %s, and the user's phones went:\nbefore %s\nafter  %s",
					res.StatusCode, res.Header.Get("Location"), before, after)
			}
		})
	}
}
