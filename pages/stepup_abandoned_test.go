package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnAbandonedStepUpsChangeIsDropped: through a real Caddy, a user with
// two phones confirms removing one, is sent to the step-up and leaves it.
// Minutes later, in the same browser, she signs in again by the ordinary
// path (the login page, a code, on to "/") and opens the devices page: it
// shows its normal state, both phones kept. A change is carried out only
// by the step-up it was asked with; any other sign-in — hers, or whoever
// next uses a shared browser — drops it, as does leaving the step-up.
func TestAnAbandonedStepUpsChangeIsDropped(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	// A second phone (its step-up, then its own code).
	s.Advance(10 * time.Minute)
	tok := alice.CSRF("/.smsgate/devices")
	add := url.Values{"action": {"add"}, "phone": {"+447400123456"}, "name": {"Work phone"}, "csrf": {tok}}
	stepUp(t, s, alice, tok, alice.Post("/.smsgate/devices", add))
	s.Advance(time.Minute)
	sitetest.Expect(t, alice.Get("/.smsgate/devices"), http.StatusSeeOther, "/.smsgate/verify")
	tok = alice.CSRF("/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	page := alice.Get("/.smsgate/devices")
	sitetest.ExpectBody(t, page, "Work phone")
	var m string
	for _, f := range regexp.MustCompile(`(?s)<strong>([^<]+)</strong>.*?name="device" value="([^"]+)"`).FindAllStringSubmatch(page.Text, -1) {
		if f[1] == "Work phone" {
			m = f[2]
		}
	}
	if m == "" {
		t.Fatalf("no device to remove:\n%s", page.Text)
	}

	// She confirms removing the work phone, is sent to the step-up, and
	// leaves it there.
	s.Advance(10 * time.Minute)
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	remove := url.Values{"action": {"remove"}, "device": {m}, "confirm": {"1"}, "csrf": {tok}}
	sitetest.Expect(t, alice.Post("/.smsgate/devices", remove), http.StatusSeeOther, "/.smsgate/verify")

	// Later, the same browser signs in by the ordinary path.
	s.Advance(5 * time.Minute)
	sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
	tok = alice.CSRF("/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	res := alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the sign-in's code: %d\n%s", res.StatusCode, res.Text)
	}
	page = alice.Get("/.smsgate/devices")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Text, "<strong>Work phone</strong>") || strings.Contains(page.Text, "was removed") || len(s.Notices()) != 1 {
		t.Fatalf("a change left at its step-up was carried out by a later sign-in: %d, notices %q", page.StatusCode, s.Notices())
	}

	// Asked again and its step-up passed, the change is made.
	s.Advance(10 * time.Minute)
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	remove.Set("csrf", tok)
	sitetest.Expect(t, alice.Post("/.smsgate/devices", remove), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	if page = alice.Get("/.smsgate/devices"); strings.Contains(page.Text, "<strong>Work phone</strong>") || len(s.Notices()) != 2 {
		t.Fatalf("the change its own step-up passed was not made: %d, notices %q", page.StatusCode, s.Notices())
	}
}
