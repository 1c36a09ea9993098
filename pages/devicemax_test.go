package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// A user whose account holds MaxDevices devices is told so, with 400 (the
// user's to fix: remove one first), whether the eleventh is an app or a
// phone. Before, the limit's error had no row in signin's table: a 503,
// "try again later", and an error in the admin's log.
func TestAFullAccountIsTheUsersMistake(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	for i := range enrollment.MaxDevices {
		body := fmt.Sprintf(`{"realm":"localhost","user":"carol","phone":"+1415555%04d","name":"Phone %d"}`, 100+i, i)
		if st, out := s.Admin("POST", "/smsgate/users", body); st != http.StatusOK {
			t.Fatalf("adding phone %d: %d %s", i, st, out)
		}
	}
	full := fmt.Sprintf("At most %d devices", enrollment.MaxDevices)

	// An app: its first code is right, but there is no room.
	tok := c.CSRF("/.smsgate/devices")
	res := c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}})
	m := appSecret.FindStringSubmatch(res.Text)
	if m == nil {
		t.Fatalf("no app setup: %d\n%s", res.StatusCode, res.Text)
	}
	res = c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, m[1])}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, full) {
		t.Fatalf("an eleventh device, an app: %d, want 400 saying %q\n%s", res.StatusCode, full, res.Text)
	}

	// A phone: its code is right, but there is no room.
	res = c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+447400123456"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	res = c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, full) {
		t.Fatalf("an eleventh device, a phone: %d, want 400 saying %q\n%s", res.StatusCode, full, res.Text)
	}
}
