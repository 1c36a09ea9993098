package pages_test

import (
	"fmt"
	"net/http"
	"regexp"
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
		{"en", "Codes paused (SMS pumping?)", "Where: &#43;44740; Kind: number prefix; Codes asked for: 3; Codes sent: 2; Codes used: 0"},
		{"de", "Codes ausgesetzt (SMS-Betrug?)", "Wo: &#43;44740; Art: Nummernbereich; Angeforderte Codes: 3; Gesendete Codes: 2; Verwendete Codes: 0"},
	} {
		alice.Header = http.Header{"Accept-Language": {c.lang}}
		res := alice.Get("/.smsgate/admin/events?kind=pumping")
		sitetest.Expect(t, res, http.StatusOK, "")
		if !strings.Contains(res.Text, `<td data-kind="pumping_paused">`+c.paused+`</td>`) || !strings.Contains(res.Text, c.where) {
			t.Errorf("%s: no pause in what happened:\n%s", c.lang, res.Text)
		}
	}
	// The costs page's codes sent agree with the event's: the third,
	// refused, is none (walk33, 48b: "Codes sent: 2" for one sent).
	alice.Header = http.Header{"Accept-Language": {"en"}}
	if res := alice.Get("/.smsgate/admin/costs"); !strings.Contains(res.Text, "GB: 2</title>") {
		t.Errorf("the costs page's texts to GB should be the event's 2 sent:\n%s", res.Text)
	} else if !strings.Contains(res.Text, `<th scope="col">Refused while paused</th>`) {
		// Its column counts the sends refused (walk34's 50b: "Paused").
		t.Errorf("the costs page's column of refused sends:\n%s", res.Text)
	}
	alice.Header = http.Header{"Accept-Language": {"de"}}
	// The costs page says it in the same word, of numbers with the prefix
	// (walk33: "angehalten", "Pausiert" and "ausgesetzt" for one pause,
	// and "neue Codes nach +1415").
	res := alice.Get("/.smsgate/admin/costs")
	if !strings.Contains(res.Text, "Der Pumping-Schutz hat neue Codes an Nummern mit &#43;44740 ausgesetzt.") || !strings.Contains(res.Text, `<th scope="col">Während der Pause abgelehnt</th>`) ||
		strings.Contains(res.Text, "angehalten") || strings.Contains(res.Text, "Pausiert") {
		t.Errorf("de: the costs page's pause:\n%s", res.Text)
	}
	// Who did it, in words: the guard paused, and the CLI (through the
	// admin API) resumed (walk33: an empty "By").
	if st, body := sitetest.Admin(t, "POST", "/smsgate/pumping/resume", `{"realm":"localhost","place":"+44740"}`); st != http.StatusOK {
		t.Fatalf("resuming +44740: %d %s", st, body)
	}
	for _, c := range []struct{ lang, paused, resumed string }{
		{"en", "the pumping guard", "administrator (command line or admin API)"},
		{"de", "der Pumping-Schutz", "Administrator (Kommandozeile oder Admin-API)"},
	} {
		alice.Header = http.Header{"Accept-Language": {c.lang}}
		res := alice.Get("/.smsgate/admin/events?kind=pumping")
		for kind, by := range map[string]string{"pumping_paused": c.paused, "pumping_resumed": c.resumed} {
			if !regexp.MustCompile(`<td data-kind="` + kind + `">[^<]*</td><td></td><td></td><td>` + regexp.QuoteMeta(by) + `</td>`).MatchString(res.Text) {
				t.Errorf("%s: %s should be by %q:\n%s", c.lang, kind, by, res.Text)
			}
		}
	}
	// An admin's resume is an admin action too: under that filter as well
	// (walk34: under "Pumping guard" only).
	if res := alice.Get("/.smsgate/admin/events?kind=admin_"); !strings.Contains(res.Text, `<td data-kind="pumping_resumed">`) {
		t.Errorf("the resume is not under the admin actions' filter:\n%s", res.Text)
	}
}
