package pages_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestARecoveryCodeWithNoDeviceLeftEnrollsOne: at a login form (identity
// none), ann enrolled her phone through an invite and saved her recovery
// codes; then her last phone went — she removed it herself
// (allow_remove_last), or the admin did (remove-device), not a reset (which
// removes the recovery codes too). Her name and a recovery code must not
// give her a session that no device backs (one that would ask her for
// nothing but the next recovery code, until none is left): the code sends
// her on to enroll a phone, and the session comes with that phone's code.
// Through a real Caddy. (Before: 303 to / with a session, and a device
// list still empty.)
func TestARecoveryCodeWithNoDeviceLeftEnrollsOne(t *testing.T) {
	sitetest.Parallel(t)
	for _, by := range []string{"user", "admin"} {
		t.Run(by, func(t *testing.T) {
			s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		allow_remove_last
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
			c, codes := annInvited(t, s)
			id := deviceID.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1]
			if by == "user" {
				tok := c.CSRF("/.smsgate/devices")
				sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")
			} else if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"ann","id":%q}`, id)); st != http.StatusOK {
				t.Fatalf("removing the phone: %d %s", st, out)
			}
			if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, "+1•••••••671") {
				t.Fatalf("the phone is still listed: %s", out)
			}

			r := sitetest.NewClient(t, "")
			rtok := r.CSRF("/.smsgate/login")
			sitetest.Expect(t, r.Post("/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {rtok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, r.Post("/.smsgate/verify", url.Values{"code": {codes[0]}, "csrf": {rtok}}), http.StatusSeeOther, "/.smsgate/enroll")
			if r.Cookie("smsgate_session") != "" {
				t.Fatal("a session from a recovery code with no device left")
			}
			sitetest.Expect(t, r.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")

			sitetest.Expect(t, r.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {rtok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, r.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {rtok}}), http.StatusSeeOther, "/")
			sitetest.ExpectBody(t, r.Get("/"), "Hello, ann!")
			if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); !strings.Contains(out, "+1•••••••672") {
				t.Errorf("the new phone is not ann's: %s", out)
			}
		})
	}
}

// annInvited has ann (identity none) accept an admin's invite in a new
// browser and enroll +14155552671; it returns that browser, signed in, and
// her recovery codes.
func annInvited(t *testing.T, s *sitetest.Site) (*sitetest.Client, []string) {
	t.Helper()
	st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"ann","ttl":"1h"}`)
	var inv struct{ Path string }
	if err := json.Unmarshal([]byte(body), &inv); st != http.StatusOK || err != nil {
		t.Fatalf("invite: %d %s", st, body)
	}
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	token := inv.Path[strings.Index(inv.Path, "token=")+len("token="):] // under the gate's prefix
	sitetest.Expect(t, c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	return c, sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
}
