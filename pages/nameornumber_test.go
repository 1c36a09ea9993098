package pages_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestANameAndItsNumberKeepOneSchedule: at a login form, cooldowns count
// what was typed, so that no answer tells a name from a number of it; a
// stranger typing carol's name and then her number, in turn, as each wait
// ends, must still get no more texts to her phone than one schedule
// allows: from one IP its doubling (codes at 0, 30 s, 1½, 3½, 7½ min…),
// from another IP its base wait (30 s). The number's turn is answered as
// any send is (the verify step, or its own typed wait), and sends nothing. Through a real Caddy.
// (Before, the name and the number kept a schedule each: two texts at
// every turn.)
func TestANameAndItsNumberKeepOneSchedule(t *testing.T) {
	sitetest.Parallel(t)
	s, stranger, _ := carolAtTheCode(t, "limit number off") // its 10 an hour would end the test early
	typeNumber := func(c *sitetest.Client) *sitetest.Response {
		tok := c.CSRF("/.smsgate/login")
		return c.Post("/.smsgate/login", url.Values{"username": {"+1 415 555 2671"}, "csrf": {tok}})
	}
	if sitetest.Expect(t, typeNumber(stranger), http.StatusSeeOther, "/.smsgate/verify"); s.Sent() != 1 {
		t.Fatalf("her number typed right after her name: %d codes sent, want 1", s.Sent())
	}
	for k := 1; k <= 5; k++ { // code k's wait is 30 s << (k-1)
		s.Advance(30*time.Second<<(k-1) + time.Second)
		sitetest.Expect(t, typeCarol(stranger), http.StatusSeeOther, "/.smsgate/verify")
		// Its own wait (the held turn before counted, as a decoy's
		// does), or the number's: either way, no text.
		if res := typeNumber(stranger); (res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusTooManyRequests) || s.Sent() != k+1 {
			t.Fatalf("turn %d: %d, %d codes sent, want %d (one schedule's)", k, res.StatusCode, s.Sent(), k+1)
		}
	}
	other := sitetest.NewClient(t, "").OnLoopback(2)
	s.Advance(30*time.Second<<5 + time.Second)
	sitetest.Expect(t, typeCarol(stranger), http.StatusSeeOther, "/.smsgate/verify")
	if sitetest.Expect(t, typeNumber(other), http.StatusSeeOther, "/.smsgate/verify"); s.Sent() != 7 {
		t.Fatalf("her number from another IP right after her name: %d codes sent, want 7 (the base wait holds)", s.Sent())
	}
	s.Advance(31 * time.Second)
	if sitetest.Expect(t, typeNumber(other), http.StatusSeeOther, "/.smsgate/verify"); s.Sent() != 8 {
		t.Fatalf("her number from another IP past the base wait: %d codes sent, want 8", s.Sent())
	}
	// Carol signs in by her number there: the code used ends the
	// number's waits, so her name from that IP is sent one at once.
	tok := other.CSRF("/.smsgate/verify")
	sitetest.Expect(t, other.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if sitetest.Expect(t, typeCarol(sitetest.NewClient(t, "").OnLoopback(2)), http.StatusSeeOther, "/.smsgate/verify"); s.Sent() != 9 {
		t.Fatalf("her name after her number's code was used: %d codes sent, want 9", s.Sent())
	}
}
