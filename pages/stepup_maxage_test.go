package pages_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheDevicesPageIsNoStalerThanItsGatesMaxAge: through a real Caddy, at
// a gate whose max_age (1m) is shorter than its step_up (5m), a sign-in the
// gate's route no longer takes adds no device without a code first: else
// whoever finds the browser unattended adds their own app, whose fresh code
// then passes the route max_age was meant to hold (as the console, whose
// sign-in max_age already bounds). A code, and the change goes on.
func TestTheDevicesPageIsNoStalerThanItsGatesMaxAge(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "max_age 1m")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	s.Advance(2 * time.Minute)
	if res := alice.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("the route after its max_age: %d", res.StatusCode)
	}
	tok := alice.CSRF("/.smsgate/devices")
	res := alice.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}})
	if m := appSecret.FindStringSubmatch(res.Text); m != nil {
		t.Fatalf("a sign-in older than the gate's max_age began adding an app with no code: %d, secret shown", res.StatusCode)
	}
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	// A code, and the change goes on.
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	if res := alice.Get("/.smsgate/devices"); appSecret.FindStringSubmatch(res.Text) == nil {
		t.Fatalf("after the step-up, no app setup: %d\n%s", res.StatusCode, res.Text)
	}
}
