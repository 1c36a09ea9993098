package pages_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// eventTime is a time in what happened, with its time zone.
var eventTime = regexp.MustCompile(`<td>[^<]*\d{4} \d\d:\d\d:\d\d [A-Z]{3,4}</td>`)

// TestWhatHappenedSaysEachEventInWords: through a real Caddy, what happened
// says each event in the page's words (en, de), its ID kept for the logs
// (data-kind; a kind the catalogue has no words for is shown by its ID),
// and every time with its time zone, and its details in words ("Purpose:
// first phone", not purpose=enroll). Before, the IDs alone
// (admin_devices_remove, purpose=enroll) and times with no zone (walk29, 48).
func TestWhatHappenedSaysEachEventInWords(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	for _, c := range []struct{ lang, enrolled, verified, sent string }{
		{"en", "First phone added", "Signed in with a code", "Purpose: first phone; Sent as: text message"},
		{"de", "Erstes Telefon hinzugefügt", "Mit einem Code angemeldet", "Zweck: erstes Telefon; Gesendet als: SMS"},
	} {
		alice.Header = http.Header{"Accept-Language": {c.lang}}
		res := alice.Get("/.smsgate/admin/events")
		sitetest.Expect(t, res, http.StatusOK, "")
		for _, want := range []string{`<td data-kind="enrolled">` + c.enrolled + `</td>`, `<td data-kind="verified">` + c.verified + `</td>`} {
			if !strings.Contains(res.Text, want) {
				t.Errorf("%s: no %q in\n%s", c.lang, want, res.Text)
			}
		}
		if strings.Contains(res.Text, `">enrolled</td>`) {
			t.Errorf("%s: an ID for words", c.lang)
		}
		// Its details too, not key=value (walk29, 48: purpose=enroll channel=sms).
		if !strings.Contains(res.Text, "<td>"+c.sent+"</td>") || strings.Contains(res.Text, "purpose=") || strings.Contains(res.Text, "device=") {
			t.Errorf("%s: details not in words (want %q):\n%s", c.lang, c.sent, res.Text)
		}
		if n, all := len(eventTime.FindAllString(res.Text, -1)), strings.Count(res.Text, "data-kind="); n == 0 || n != all {
			t.Errorf("%s: %d of %d times with a time zone:\n%s", c.lang, n, all, res.Text)
		}
	}
}
