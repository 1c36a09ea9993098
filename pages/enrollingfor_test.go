package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// TestADeadCodesNumberIsOnlyForWhoTypedIt: through a real Caddy behind
// basic_auth, alice's first phone's code dies of wrong tries; the flow
// keeps her number so that "Send a new code" needs no typing. Bob, signed
// in on the same browser (her flow cookie), neither sees her number on
// the verify page nor gets a code sent to it as his enrollment: the number
// is hers. Before, the flow kept the number alone, naming nobody where the
// identity is a header (ux32's note), and bob's "Send a new code" texted
// her phone.
func TestADeadCodesNumberIsOnlyForWhoTypedIt(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
	res, tok := sitetest.EnrollWith(t, alice, "+14155550177")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	for i := 0; i < 10 && !strings.Contains(alice.Get("/.smsgate/verify").Text, "Send a new code"); i++ {
		alice.Post("/.smsgate/verify", url.Values{"code": {"000000"}, "csrf": {tok}})
	}
	page := alice.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, "Send a new code")
	sitetest.ExpectBody(t, page, "177") // her number, masked: for her

	bob := sitetest.NewClient(t, "bob")
	bob.SetCookie(pages.FlowCookie, alice.Cookie(pages.FlowCookie))
	page = bob.Get("/.smsgate/verify")
	if strings.Contains(page.Text, "177") || strings.Contains(page.Text, "Send a new code") {
		t.Errorf("bob, with alice's flow, is offered a new code to her number:\n%s", page.Text)
	}
	sent := s.Sent()
	bob.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
	if entries := s.LogEntries("verification code"); s.Sent() != sent {
		t.Errorf("bob's send texted: %v", entries[len(entries)-1])
	}

	// Alice's own "Send a new code" still goes to her number, untyped.
	s.Advance(31 * time.Second) // the resend wait her dead code left
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if s.Sent() != sent+1 {
		t.Errorf("alice's new code was not sent: %d texts, want %d", s.Sent(), sent+1)
	}
}
