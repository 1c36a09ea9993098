package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/caddymodule"
)

// TestSwitchWaitsLikeResend: "Call me instead" (and "Text me instead")
// obeys the cooldown a resend does, so that a text is given the time to
// arrive before a call is paid for. Before, text, call and text again went
// out within seconds. The refusal says how long; the switch button counts
// down; once the cooldown is over the call goes out.
func TestSwitchWaitsLikeResend(t *testing.T) {
	s := basicSite(t, "channels sms voice")
	c := newClient(t, "demo")
	res, tok := enrollWith(t, c, "+14155552671")
	expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	if n := s.sent(); n != 1 {
		t.Fatalf("%d messages after the enrollment, want 1", n)
	}
	page := c.get("/.smsgate/verify")
	if !strings.Contains(page.body, `class="link countdown" data-resend-in="30" data-label="Call me instead"`) {
		t.Fatalf("the switch button does not count down the cooldown:\n%s", page.body)
	}
	caddymodule.Advance(3 * time.Second)
	res = c.post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "27" {
		t.Fatalf("a call 3 s after the text: %d, Retry-After %q, want 429 and 27", res.StatusCode, res.Header.Get("Retry-After"))
	}
	expectBody(t, res, "Please wait 27 seconds before requesting another code.")
	expectBody(t, res, `data-resend-in="27" data-label="Call me instead"`)
	if n := s.sent(); n != 1 {
		t.Fatalf("%d messages after a call refused, want 1", n)
	}
	// The text's code still works meanwhile; here the user waits instead.
	caddymodule.Advance(28 * time.Second)
	expect(t, c.post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if n := s.sent(); n != 2 {
		t.Fatalf("%d messages after the cooldown's call, want 2", n)
	}
	// And back to a text: the same wait again.
	res = c.post("/.smsgate/verify", url.Values{"action": {"sms"}, "csrf": {tok}})
	if res.StatusCode != http.StatusTooManyRequests || s.sent() != 2 {
		t.Fatalf("a text right after the call: %d, %d messages; want 429 and 2", res.StatusCode, s.sent())
	}
	expectBody(t, res, `data-label="Text me instead"`)
	// The call's code signs in.
	expectEnrolled(t, c.post("/.smsgate/verify", url.Values{"code": {lastCodeIn(s.logEntries("verification code"))}, "csrf": {tok}}), "/")
}
