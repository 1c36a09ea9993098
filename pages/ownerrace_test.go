package pages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestANumberRemovedWhileAddedBackStillNamesItsUser: through a real Caddy
// in verify-only mode (the number typed at the login form names its user,
// and binds one user only), carol removes a phone in one browser while she
// adds the same number back in another: the removal is held once it took
// the phone off her list, before it unbinds the number, until the adding
// has been answered. Carol holds the number after it all, so the number
// must still name her: typed at the login form, it is sent her code. On
// Badger and on Redis. (Before, the removal unbound the number after the
// adding had found it bound and written the phone: the number named
// nobody, a decoy's answer and no code, and another user could bind it.)
func TestANumberRemovedWhileAddedBackStillNamesItsUser(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s, dir := heldSite(t, kind, `verify_only "a phone-hashing key of 32 bytes or more"`, "allow_remove_last")
			const number = "+447400123456"
			adding := func(c *sitetest.Client, tok string) {
				t.Helper()
				sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {number}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
				sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
			}
			a, b := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
			sitetest.SignIn(t, s, a)
			adding(a, a.CSRF("/.smsgate/devices"))
			s.Advance(time.Minute) // past the waits of the last code
			sitetest.SignIn(t, s, b)
			btok := b.CSRF("/.smsgate/devices")

			_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
			var users []struct {
				User    string
				Devices []struct{ ID string }
			}
			if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 1 || len(users[0].Devices) != 1 {
				t.Fatalf("carol's devices: %v %s", err, out)
			}
			atok := a.CSRF("/.smsgate/devices")
			sitetest.AddHold(t, dir, sitetest.Hold{Of: "carol", Op: "write", Key: "device/*/carol"}) // held once it wrote her devices
			removal := sitetest.Park(t, dir, func() *sitetest.Response {
				return a.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {users[0].Devices[0].ID}, "confirm": {"1"}, "csrf": {atok}})
			})
			adding(b, btok)
			sitetest.Expect(t, removal.Release(t), http.StatusOK, "")

			s.Advance(2 * time.Minute)
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			sent := s.Sent()
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {number}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			if s.Sent() != sent+1 {
				t.Fatalf("carol's number, typed at the login form after she added it back during its removal, named nobody: %d texts, want 1", s.Sent()-sent)
			}
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		})
	}
}
