package pages_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASignInASignOutAheadCoversSaysSo (attack34b's F2): carol signs out
// everywhere at an instance whose clock is 5 s ahead (here the gate, put
// 5 s ahead for it), then signs in a second later at one on time (the
// gate put back): her sign-out's record covers the new session's iat, so
// it would be born ended. Before, the answer was a 303 into that dead
// session, her code used, and every request after it sent back to sign
// in until the clock passed the record. Now the page says so in words
// (409, Retry-After, the same wait in its words: review35, before "a few
// seconds" however long; no session cookie), and once the clock has passed
// her sign-out's instant she signs in as ever.
func TestASignInASignOutAheadCoversSaysSo(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	carol := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, carol)
	s.Advance(5 * time.Second)
	tok := carol.CSRF("/.smsgate/devices")
	sitetest.Expect(t, carol.Post("/.smsgate/devices", url.Values{"action": {"signout-all"}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")
	s.Advance(-4 * time.Second)

	c := sitetest.NewClient(t, "")
	tok = c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	res := c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Text, "You were signed out everywhere a moment ago. Please sign in again in "+strconv.Itoa(wait)+" seconds.") || wait < 1 || wait > 6 {
		t.Errorf("a sign-in a second after her sign-out everywhere at an instance 5 s ahead: %d %q, Retry-After %q, want 409 saying so, 4-6 s\n%.400s",
			res.StatusCode, res.Header.Get("Location"), res.Header.Get("Retry-After"), res.Text)
	}
	if got := c.Cookie("smsgate_session"); got != "" {
		t.Errorf("a session cookie was set: it is born ended")
	}

	s.Advance(31 * time.Second) // past her sign-out, and the code's resend wait
	c = sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	sitetest.ExpectBody(t, c.Get("/"), "Hello, carol")
}

// TestABornEndedSignInKeepsHerRecoveryCode (review35 finding 5): the same
// with one of her recovery codes (she lost her phone). The sign-in that
// would be born ended was refused only once the check had spent the code:
// one of her ten gone for good (a first enrollment's new codes never
// shown). Now the verify page asks before the check, and after the
// Retry-After the same recovery code signs her in.
func TestABornEndedSignInKeepsHerRecoveryCode(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	carol := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, carol)
	sitetest.Expect(t, carol.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {carol.CSRF("/.smsgate/devices")}}), http.StatusSeeOther, "/.smsgate/recovery")
	codes := sitetest.RecoveryCode.FindAllStringSubmatch(carol.Get("/.smsgate/recovery").Text, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	s.Advance(5 * time.Second)
	tok := carol.CSRF("/.smsgate/devices")
	sitetest.Expect(t, carol.Post("/.smsgate/devices", url.Values{"action": {"signout-all"}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")
	s.Advance(-4 * time.Second)

	c := sitetest.NewClient(t, "")
	tok = c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	res := c.Post("/.smsgate/verify", url.Values{"code": {codes[0][1]}, "csrf": {tok}})
	wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != http.StatusConflict || wait < 1 {
		t.Fatalf("want the 409: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	s.Advance(time.Duration(wait) * time.Second)
	again := c.Post("/.smsgate/verify", url.Values{"code": {codes[0][1]}, "csrf": {tok}})
	if again.StatusCode != http.StatusSeeOther {
		t.Errorf("her recovery code after the 409's Retry-After (%d s): %d, want it to sign her in (before: spent by the 409)\n%.400s", wait, again.StatusCode, again.Text)
	}
}
