package pages_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestANewLoginKeepsTheCooldownDoubling: posting the login form again,
// once the last code's wait is over, starts no new schedule: the wait
// before each code to carol's phone doubles across logins (30 s, 60 s,
// 120 s…) as it does within one sign-in, until a code is used. Before,
// every new login started over at 30 s, so re-posting the login every
// 30 s texted carol's phone at the base rate for as long as the per-user
// and per-number limits allowed (10 an hour, every hour).
func TestANewLoginKeepsTheCooldownDoubling(t *testing.T) {
	sitetest.Parallel(t)
	s, c, _ := carolAtTheCode(t, "")
	s.Advance(31 * time.Second) // past the first code's wait
	for i := range 4 {
		sent := s.Sent()
		sitetest.Expect(t, typeCarol(c), http.StatusSeeOther, "/.smsgate/verify")
		if s.Sent() != sent+1 {
			t.Fatalf("login %d after the last wait sent %d codes, want 1", i+2, s.Sent()-sent)
		}
		wait := 30 * time.Second << (i + 1)
		s.Advance(wait/2 + time.Second) // past the base wait and the last one, not this one
		if res := typeCarol(c); res.StatusCode != http.StatusTooManyRequests || s.Sent() != sent+1 {
			t.Fatalf("login %d, %s after code %d (its wait: %s): answered %d, %d more codes sent; want 429 and none",
				i+3, wait/2+time.Second, i+2, wait, res.StatusCode, s.Sent()-sent-1)
		}
		s.Advance(wait / 2)
	}
	// A code used ends the doubling: the next sign-in begins at 30 s.
	sitetest.Expect(t, typeCarol(c), http.StatusSeeOther, "/.smsgate/verify")
	tok := c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	other := sitetest.NewClient(t, "")
	sitetest.Expect(t, typeCarol(other), http.StatusSeeOther, "/.smsgate/verify")
	s.Advance(31 * time.Second)
	sent := s.Sent()
	if sitetest.Expect(t, typeCarol(other), http.StatusSeeOther, "/.smsgate/verify"); s.Sent() != sent+1 {
		t.Fatalf("after a code was used, a new login 31 s after the next sent %d codes, want 1", s.Sent()-sent)
	}
}

// TestAStrangerHoldsNoNameAtTheLoginForm: the cooldown's doubling across
// logins is the client's (its IP's), and only the base wait is shared by
// everyone who types a name. A stranger who types "carol" as each wait
// ends is held by the doubling (8½ h after the 11th code), but carol's
// new browser from another IP waits at most the base 30 s after the
// stranger's last code, and a third client at most 30 s after hers.
// Before, the doubling was one record per typed name: carol's browser was
// answered 429 at the login form for 8½ h (no verify step: neither a text
// nor her app or a recovery code).
func TestAStrangerHoldsNoNameAtTheLoginForm(t *testing.T) {
	sitetest.Parallel(t)
	s, stranger, _ := carolAtTheCode(t, "")
	for k := 1; k <= 10; k++ { // code k's wait is 30 s << (k-1)
		s.Advance(30*time.Second<<(k-1) + time.Second)
		sitetest.Expect(t, typeCarol(stranger), http.StatusSeeOther, "/.smsgate/verify")
	}
	if s.Sent() != 11 {
		t.Fatalf("%d codes sent; want 11", s.Sent())
	}
	s.Advance(31 * time.Second) // past the base wait
	if res := typeCarol(stranger); res.StatusCode != http.StatusTooManyRequests || s.Sent() != 11 {
		t.Fatalf("the stranger 31 s after the 11th code: %d, %d codes; want 429 and none sent", res.StatusCode, s.Sent()-11)
	}
	carol := sitetest.NewClient(t, "").OnLoopback(2)
	if res := typeCarol(carol); res.StatusCode != http.StatusSeeOther || s.Sent() != 12 {
		t.Fatalf("carol's new browser from another IP 31 s after the 11th code: %d, %d codes; want 303 and one sent", res.StatusCode, s.Sent()-11)
	}
	third := sitetest.NewClient(t, "").OnLoopback(3)
	if res := typeCarol(third); res.StatusCode != http.StatusTooManyRequests || s.Sent() != 12 {
		t.Fatalf("a third IP right after carol's code: %d, %d codes; want 429 (the shared base wait) and none sent", res.StatusCode, s.Sent()-12)
	}
	s.Advance(31 * time.Second)
	sitetest.Expect(t, typeCarol(third), http.StatusSeeOther, "/.smsgate/verify")
}

// TestTheCooldownStopsGrowingAtItsCap: the doubling of a cooldown
// configured long stops at enrollment.MaxResendWait (8 h 32 min, the
// default's 2¹⁰ × 30 s), as the default's does. Before, resend_cooldown
// 1h doubled to 1,024 h: a stranger who typed carol's name at each wait's
// end held her unknown browsers at the login form for 16 h after the
// fifth code, 42 days after the eleventh.
func TestTheCooldownStopsGrowingAtItsCap(t *testing.T) {
	sitetest.Parallel(t)
	s, stranger, _ := carolAtTheCode(t, "resend_cooldown 1h")
	for k := 1; k <= 4; k++ { // code k's wait is 1 h << (k-1)
		s.Advance(time.Hour<<(k-1) + time.Second)
		sitetest.Expect(t, typeCarol(stranger), http.StatusSeeOther, "/.smsgate/verify")
	}
	s.Advance(enrollment.MaxResendWait + time.Second) // the fifth code's wait, 16 h without the cap
	sitetest.Expect(t, typeCarol(sitetest.NewClient(t, "")), http.StatusSeeOther, "/.smsgate/verify")
	if s.Sent() != 6 {
		t.Fatalf("%d codes sent; want 6", s.Sent())
	}
}

// typeCarol posts the login form with carol's name from c.
func typeCarol(c *sitetest.Client) *sitetest.Response {
	tok := c.CSRF("/.smsgate/login")
	return c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
}
