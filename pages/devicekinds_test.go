package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestEveryDeviceAddedSaysItsKind: through a real Caddy, the console's
// what happened names the kind of every device added — a phone as an app
// — in English and German (walk33: "Gerät hinzugefügt" with no kind for a
// phone, where an app's said "Art: Authenticator-App"), under the filter
// of device changes. Before, a phone's device_added held no kind at all,
// and no filter chose device changes.
func TestEveryDeviceAddedSaysItsKind(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins bob")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	// A second phone, fresh from the sign-in (no step-up).
	tok := alice.CSRF("/.smsgate/devices")
	sitetest.Expect(t, alice.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+447400123456"}, "name": {"Work phone"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	// And an app.
	tok = alice.CSRF("/.smsgate/devices")
	res := alice.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}})
	secret := appSecret.FindStringSubmatch(res.Text)
	if secret == nil {
		t.Fatalf("no app to add: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), res.Text)
	}
	if res = alice.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret[1])}, "csrf": {tok}}); res.StatusCode != http.StatusOK {
		t.Fatalf("confirming the app: %d\n%s", res.StatusCode, res.Text)
	}
	// Bob, an admin with a phone only, reads what happened.
	bob := sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, bob, "+14155552672")
	for _, c := range []struct{ lang, added, phone, app string }{
		{"en", "Device added", "Kind: phone", "Kind: authenticator app"},
		{"de", "Gerät hinzugefügt", "Art: Telefon", "Art: Authenticator-App"},
	} {
		// Under its filter too (walk33: device changes were under none).
		res = bob.GetWith("/.smsgate/admin/events?kind=device_", map[string]string{"Accept-Language": c.lang})
		if !regexp.MustCompile(`<option value="device_" selected>`).MatchString(res.Text) || regexp.MustCompile(`data-kind="code_sent"`).MatchString(res.Text) {
			t.Errorf("%s: the filter of device changes:\n%s", c.lang, res.Text)
		}
		for _, kind := range []string{c.phone, c.app} {
			if !regexp.MustCompile(`<td data-kind="device_added">` + c.added + `</td>(?:<td>[^<]*</td>)*<td>[^<]*` + regexp.QuoteMeta(kind) + `[^<]*</td></tr>`).MatchString(res.Text) {
				t.Errorf("%s: no device added with %q:\n%s", c.lang, kind, res.Text)
			}
		}
	}
}
