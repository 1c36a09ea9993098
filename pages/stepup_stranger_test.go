package pages_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestNoStepUpForAStranger: the verify step offers texts and recovery
// codes at a route that requires an app only as the devices page's
// step-up, for a user already signed in. A stranger who names the devices
// page as the return address (rd) is no step-up: the app-only route sends
// them no text and checks no recovery code. (Before, rd alone made it a
// step-up: texts went out from a gate that sends none, and recovery codes
// were guessed there.)
func TestNoStepUpForAStranger(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, requireSite)
	c := sitetest.NewClient(t, "")
	sent := s.Sent()
	tok := sitetest.CSRFField.FindStringSubmatch(c.Get("/admin/.smsgate/login?rd=/admin/.smsgate/devices").Text)[1]
	sitetest.Expect(t, c.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	if n := s.Sent(); n != sent {
		t.Fatalf("naming carol at the app-only route, with rd the devices page, sent %d texts", n-sent)
	}
	if res := c.Post("/admin/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a stranger asking the app-only route for a text, with rd the devices page: %d %s %s", res.StatusCode, res.Header.Get("Location"), res.Text)
	}
	if n := s.Sent(); n != sent {
		t.Fatalf("the app-only route sent a stranger %d texts", n-sent)
	}
	if res := c.Post("/admin/.smsgate/verify", url.Values{"code": {"ABCDE-FGHJK"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a stranger's recovery code at the app-only route, with rd the devices page: %d", res.StatusCode)
	}
}
