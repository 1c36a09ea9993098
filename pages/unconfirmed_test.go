package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnUnconfirmedTextCountsAsSent, through a real Caddy and the fake
// Twilio: a Twilio that answers 500 may have queued the text, so the
// enrollment's code counts as sent — the verify page says it could not
// confirm it went out and when to send again (in the reader's language),
// "send again" within the wait is refused with it (429) and Twilio gets
// no second request; past the wait it goes. A clear refusal (401: bad
// credentials) sent nothing: the user is told to try again, and may at
// once, as before. Before, a 500 was answered as a refusal is, and each
// "send again" was one more real text, bounded by the global budget only.
func TestAnUnconfirmedTextCountsAsSent(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	s := sitetest.TwilioVoiceSite(t, f, "")

	f.Status = http.StatusInternalServerError
	alice := sitetest.NewClient(t, "alice")
	res, tok := sitetest.EnrollWith(t, alice, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	page := alice.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, `id="unconfirmed"`)
	sitetest.ExpectBody(t, page, "We could not confirm that the code went out. If it does not arrive, send again in 30 seconds.")
	if strings.Contains(page.Text, "We sent a code to") {
		t.Fatal("the page says the code was sent")
	}
	german := alice.GetWith("/.smsgate/verify", map[string]string{"Accept-Language": "de"})
	sitetest.ExpectBody(t, german, "Wir konnten nicht bestätigen, dass der Code verschickt wurde.")
	asJSON := alice.GetWith("/.smsgate/verify", map[string]string{"Accept": "application/json"})
	sitetest.ExpectBody(t, asJSON, `"unconfirmed":true`)

	again := alice.Post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {tok}})
	sitetest.Expect(t, again, http.StatusTooManyRequests, "")
	sitetest.ExpectBody(t, again, "Please wait")
	if n := len(f.Requests()); n != 1 {
		t.Fatalf("Twilio got %d requests; want 1: send again within the wait went out", n)
	}
	f.Status = 0
	s.Advance(31 * time.Second)
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if n := len(f.Requests()); n != 2 {
		t.Fatalf("Twilio got %d requests; want 2", n)
	}
	if strings.Contains(alice.Get("/.smsgate/verify").Text, `id="unconfirmed"`) {
		t.Fatal("a code Twilio took is still said to be unconfirmed")
	}
	sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {fakes.CodeIn(f.Last(t).Form["Body"])}, "csrf": {tok}}), "/")

	// A refusal sent nothing: try again at once, and it goes to Twilio.
	f.Status = http.StatusUnauthorized
	bob := sitetest.NewClient(t, "bob")
	for i := range 2 {
		res, _ := sitetest.EnrollWith(t, bob, "+14155550100")
		sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
		sitetest.ExpectBody(t, res, "The code could not be sent; please try again in a moment.")
		if n := len(f.Requests()); n != 3+i {
			t.Fatalf("try %d: Twilio got %d requests; want %d", i+1, n, 3+i)
		}
	}
}

// TestAnUnconfirmedCodeSaysWhyInTheLog, through a real Caddy and the fake
// Twilio Verify: a verification Twilio answered 500 for counts as sent,
// and its audit line (code_unconfirmed) says why, the number masked. A
// Verify provider's sends are no chain's, whose provider_failed line says
// it otherwise; before, nothing in the log said what Twilio answered.
func TestAnUnconfirmedCodeSaysWhyInTheLog(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	s := twilioVerifySite(t, f)
	f.Status = http.StatusInternalServerError
	alice := sitetest.NewClient(t, "alice")
	res, _ := sitetest.EnrollWith(t, alice, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectBody(t, alice.Get("/.smsgate/verify"), `id="unconfirmed"`)
	lines := s.LogEntries("code_unconfirmed")
	if len(lines) != 1 {
		t.Fatalf("%d code_unconfirmed lines; want 1", len(lines))
	}
	why, _ := lines[0]["error"].(string)
	if !strings.Contains(why, "HTTP 500") || strings.Contains(fmt.Sprint(lines[0]), "4155552671") {
		t.Fatalf("the line says %v; want Twilio's 500, and no whole number", lines[0])
	}
}
