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
// (409, Retry-After, no session cookie), and once the clock has passed
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
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Text, "You were signed out everywhere a moment ago. Please sign in again in a few seconds.") || wait < 1 || wait > 6 {
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
