package pages_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestACountryIsJudgedFromItsConfiguredCode: with prefix_min_sends 3 and
// country_min_sends 4, through a real Caddy: two new numbers in +44740
// get their codes and the third pauses the prefix (refused); then a new
// number in another prefix of the country still gets its code — the
// country's third text — and the next, its fourth code, pauses the
// country. Before, the send refused by the prefix's pause kept its count
// in the country: the country paused at its fourth code with only two
// texts sent to it, refusing the site's users there sooner than its
// configuration says. A refused first phone is offered no other way to
// sign in: it has none (walk38).
func TestACountryIsJudgedFromItsConfiguredCode(t *testing.T) {
	sitetest.Parallel(t)
	s := pumpingSite(t, []string{"u0", "u1", "u2", "u3", "u4"}, `pumping_guard {
			prefix_min_sends 3
			country_min_sends 4
		}`)
	enroll := func(i int, num string, sent bool) {
		t.Helper()
		c := sitetest.NewClient(t, fmt.Sprint("u", i)).From(fmt.Sprintf("203.0.113.%d", i+1))
		res, _ := sitetest.EnrollWith(t, c, num)
		if sent {
			sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			return
		}
		sitetest.Expect(t, res, http.StatusTooManyRequests, "")
		sitetest.ExpectBody(t, res, "Codes to numbers like yours are paused")
		if strings.Contains(res.Text, "another way") {
			t.Errorf("a first phone's refusal offers another way to sign in, where there is none (walk38):\n%s", res.Text)
		}
	}
	enroll(0, "+447400100001", true)
	enroll(1, "+447400100002", true)
	enroll(2, "+447400100003", false) // the prefix's third code: +44740 paused
	enroll(3, "+447500100004", true)  // the country's third text
	enroll(4, "+447500100005", false) // its fourth code: GB paused
	if sent := s.Sent(); sent != 3 {
		t.Fatalf("%d texts; want 3", sent)
	}
}
