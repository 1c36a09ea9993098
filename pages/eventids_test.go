package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestWhatHappenedSaysWhatItsCountsAndIDsAre (walkfix39): through a real
// Caddy, after alice made an invite for bob and reset him, what happened
// says whose invites a reset's count is of ("Invites this user had made,
// ended: 0": it read "Invites ended: 0", as if bob's new invite had
// survived), calls a device's ID an ID, and says under the list what such
// an ID is for (it read "Device: TUDIERDS", a name an admin can match to
// nothing); en and de.
func TestWhatHappenedSaysWhatItsCountsAndIDsAre(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice, bob := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Enroll(t, s, bob, "+4915123000002")
	path := "/.smsgate/admin/user?name=bob"
	sitetest.ConsoleDone(t, consolePost(alice, path, url.Values{"action": {"invite"}, "csrf": {alice.CSRF(path)}}, s.Base), "invite")
	sitetest.ConsoleDone(t, consolePost(alice, path, url.Values{"action": {"reset"}, "confirm": {"1"}, "csrf": {alice.CSRF(path)}}, s.Base), "reset")
	for _, c := range []struct{ lang, ended, device, note string }{
		{"en", "Invites this user had made, ended: 0", "Device ID: ", "A device ID or session ID is the same in every event of that device or session"},
		{"de", "Beendete Einladungen, die dieser Benutzer erstellt hatte: 0", "Geräte-ID: ", "Eine Geräte- oder Sitzungs-ID ist in allen Ereignissen zu diesem Gerät oder dieser Sitzung gleich"},
	} {
		alice.Header = http.Header{"Accept-Language": {c.lang}}
		res := alice.Get("/.smsgate/admin/events")
		sitetest.Expect(t, res, http.StatusOK, "")
		for _, want := range []string{c.ended, c.device, c.note} {
			if !strings.Contains(res.Text, want) {
				t.Errorf("%s: no %q in\n%s", c.lang, want, res.Text)
			}
		}
		for _, old := range []string{">Invites ended:", ">Beendete Einladungen:", ">Device: ", ">Gerät: ", "; Device: ", "; Gerät: "} {
			if strings.Contains(res.Text, old) {
				t.Errorf("%s: still %q", c.lang, old)
			}
		}
	}
}
