package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheConsoleOffersNoTextThatCannotOpenIt: an admin with an
// authenticator app who signed in with a text is sent by the console to
// the verify page for her app. A texted code (or a call's, or a recovery
// code) cannot open the console for her (it wants her app or passkey), so
// the page offers none, and a text asked for there by hand is refused,
// not sent: before, "Try another way" offered "Send me a code", the
// admin paid for the text, and its code sent her back to the same page.
// Her app still opens the console.
func TestTheConsoleOffersNoTextThatCannotOpenIt(t *testing.T) {
	sitetest.Parallel(t)
	s, c, secret := atTheConsolesVerify(t)
	page := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, `id="why"`)
	sitetest.ExpectBody(t, page, `<details class="app" open>`)
	for _, offer := range []string{`value="send"`, `value="call"`, `value="sms"`, `class="another"`, `id="recovery-code"`} {
		if strings.Contains(page.Text, offer) {
			t.Errorf("the console's verify page for the app offers %s, which cannot open the console:\n%s", offer, page.Text)
		}
	}
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sent := s.Sent()
	if res := c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a text asked for there by hand: %d, want 400", res.StatusCode)
	}
	if n := s.Sent() - sent; n != 0 {
		t.Errorf("%d texts sent for the console's verify page, whose code cannot open it", n)
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/admin/")
	sitetest.Expect(t, c.Get("/.smsgate/admin/"), http.StatusOK, "")
}
