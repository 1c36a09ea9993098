package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestSwitchWaitsLikeResend: "Call me instead" (and "Text me instead")
// obeys the cooldown a resend does, so that a text is given the time to
// arrive before a call is paid for. Before, text, call and text again went
// out within seconds. The refusal says how long; the switch button counts
// down; once the cooldown is over the call goes out.
func TestSwitchWaitsLikeResend(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "channels sms voice")
	c := sitetest.NewClient(t, "demo")
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	if n := s.Sent(); n != 1 {
		t.Fatalf("%d messages after the enrollment, want 1", n)
	}
	page := c.Get("/.smsgate/verify")
	if !strings.Contains(page.Text, `class="link countdown" data-resend-in="30" data-label="Call me instead"`) {
		t.Fatalf("the switch button does not count down the cooldown:\n%s", page.Text)
	}
	s.Advance(3 * time.Second)
	res = c.Post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "27" {
		t.Fatalf("a call 3 s after the text: %d, Retry-After %q, want 429 and 27", res.StatusCode, res.Header.Get("Retry-After"))
	}
	sitetest.ExpectBody(t, res, "Please wait 27 seconds before requesting another code.")
	sitetest.ExpectBody(t, res, `data-resend-in="27" data-label="Call me instead"`)
	if n := s.Sent(); n != 1 {
		t.Fatalf("%d messages after a call refused, want 1", n)
	}
	// The text's code still works meanwhile; here the user waits instead.
	s.Advance(28 * time.Second)
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if n := s.Sent(); n != 2 {
		t.Fatalf("%d messages after the cooldown's call, want 2", n)
	}
	// And back to a text: the same wait again.
	res = c.Post("/.smsgate/verify", url.Values{"action": {"sms"}, "csrf": {tok}})
	if res.StatusCode != http.StatusTooManyRequests || s.Sent() != 2 {
		t.Fatalf("a text right after the call: %d, %d messages; want 429 and 2", res.StatusCode, s.Sent())
	}
	sitetest.ExpectBody(t, res, `data-label="Text me instead"`)
	// The call's code signs in.
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {lastCodeIn(s.LogEntries("verification code"))}, "csrf": {tok}}), "/")
}

// TestLoginReadsNationalNumbers: at a login form (identity none), a number
// typed as people know it, (415) 555-2671, is read as the enrollment page
// reads one: in the country the page's picker says (preset from the
// browser's language). Before, it was taken for a name nobody has: the
// page said a code was sent, and none was.
func TestLoginReadsNationalNumbers(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Carol(t, "")
	c := sitetest.NewClient(t, "")
	c.Header = http.Header{"Accept-Language": {"en-US"}}
	page := c.Get("/.smsgate/login")
	if !strings.Contains(page.Text, `<option value="US" selected>`) {
		t.Fatalf("the login page's country picker is not preset to the browser's country:\n%s", page.Text)
	}
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"(415) 555-2671"}, "region": {"US"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if n := s.Sent(); n != 1 {
		t.Fatalf("%d codes sent to carol's number typed in national form, want 1", n)
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	// Another country's reading of the same digits is not carol's number.
	s.Advance(time.Minute)
	d := sitetest.NewClient(t, "")
	tok = d.CSRF("/.smsgate/login")
	sitetest.Expect(t, d.Post("/.smsgate/login", url.Values{"username": {"(415) 555-2671"}, "region": {"GB"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if n := s.Sent(); n != 1 {
		t.Fatalf("%d codes after a GB reading of a US number, want still 1", n)
	}
}

// TestTrustOfferedByDefault: with no remember line, the verify step offers
// "Trust this browser for 30 days", unticked; `remember off` offers
// nothing, and a browser that asks anyway is not trusted. (require and
// max_age routes ignoring a trust, now the default's, are
// TestRequireAStrongerKind and TestTrustedBrowser.)
func TestTrustOfferedByDefault(t *testing.T) {
	sitetest.Parallel(t)
	for _, c := range []struct {
		options string
		offered bool
	}{{"", true}, {"remember off", false}} {
		s := sitetest.Basic(t, c.options)
		b := sitetest.NewClient(t, "demo")
		res, tok := sitetest.EnrollWith(t, b, "+14155552671")
		sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
		page := b.Get("/.smsgate/verify")
		box := `<input type="checkbox" name="remember" value="1"> Trust this browser for 30 days`
		if strings.Contains(page.Text, box) != c.offered || strings.Contains(page.Text, `name="remember" value="1" checked`) {
			t.Fatalf("%q: trust offered %v (unticked), want %v:\n%s", c.options, !c.offered, c.offered, page.Text)
		}
		sitetest.ExpectEnrolled(t, b.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "remember": {"1"}, "csrf": {tok}}), "/")
		if got := b.Cookie("smsgate_trust") != ""; got != c.offered {
			t.Fatalf("%q: a trust cookie %v, want %v", c.options, got, c.offered)
		}
	}
}
