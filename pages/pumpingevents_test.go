package pages_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAPumpingPauseIsInWhatHappened: through a real Caddy, a pause of the
// pumping guard reaches the console's what happened, under its filter
// "Pumping guard", in words (en, de) with where and why; the admin's log
// and Caddy event are as before. Before, the filter offered it and no
// pause ever reached it (the guard's were alarms, never kept for the
// console).
func TestAPumpingPauseIsInWhatHappened(t *testing.T) {
	sitetest.Parallel(t)
	s := pumpingSite(t, []string{"alice", "u1", "u2", "u3"}, "admins alice", `pumping_guard {
			prefix_min_sends 3
		}`)
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	for i := 1; i <= 3; i++ {
		c := sitetest.NewClient(t, fmt.Sprint("u", i)).From(fmt.Sprintf("203.0.113.%d", i))
		res, _ := sitetest.EnrollWith(t, c, fmt.Sprintf("+44740010000%d", i))
		if want := http.StatusSeeOther; i == 3 {
			sitetest.Expect(t, res, http.StatusTooManyRequests, "") // the prefix's third code: +44740 paused
		} else {
			sitetest.Expect(t, res, want, "/.smsgate/verify")
		}
	}
	for _, c := range []struct{ lang, paused, where string }{
		{"en", "Codes paused (SMS pumping?)", "Where: &#43;44740; Kind: number prefix"},
		{"de", "Codes ausgesetzt (SMS-Betrug?)", "Wo: &#43;44740; Art: Nummernbereich"},
	} {
		alice.Header = http.Header{"Accept-Language": {c.lang}}
		res := alice.Get("/.smsgate/admin/events?kind=pumping")
		sitetest.Expect(t, res, http.StatusOK, "")
		if !strings.Contains(res.Text, `<td data-kind="pumping_paused">`+c.paused+`</td>`) || !strings.Contains(res.Text, c.where) {
			t.Errorf("%s: no pause in what happened:\n%s", c.lang, res.Text)
		}
	}
	// The costs page says it in the same word, of numbers with the prefix
	// (walk33: "angehalten", "Pausiert" and "ausgesetzt" for one pause,
	// and "neue Codes nach +1415").
	res := alice.Get("/.smsgate/admin/costs")
	if !strings.Contains(res.Text, "Der Pumping-Schutz hat neue Codes an Nummern mit &#43;44740 ausgesetzt.") || !strings.Contains(res.Text, `<th scope="col">Ausgesetzt</th>`) ||
		strings.Contains(res.Text, "angehalten") || strings.Contains(res.Text, "Pausiert") {
		t.Errorf("de: the costs page's pause:\n%s", res.Text)
	}
}
