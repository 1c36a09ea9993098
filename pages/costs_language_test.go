package pages_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheCostsPageWritesMoneyInTheReadersLanguage: through a real Caddy,
// the console's costs page writes the estimate as its reader's language
// does: "0,43 €" in German (walk33: "0.43 EUR"), "0.43 EUR" in English,
// and the countries' column alike.
func TestTheCostsPageWritesMoneyInTheReadersLanguage(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		admins alice
		costs {
			currency EUR
			price * sms 0.43
		}
		store badger {DIR}
		provider log
	}
	respond "hi"
}`, sitetest.DemoHash))
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	for lang, want := range map[string]string{"de": "Geschätzte Kosten: 0,43\u00a0€.", "en": "Estimated cost: 0.43\u00a0EUR."} {
		alice.Header = http.Header{"Accept-Language": {lang}}
		res := alice.Get("/.smsgate/admin/costs")
		sitetest.Expect(t, res, http.StatusOK, "")
		if !strings.Contains(res.Text, want) {
			t.Errorf("%s: no %q:\n%s", lang, want, res.Text)
		}
		if lang == "de" && (strings.Contains(res.Text, "0.43") || !strings.Contains(res.Text, "<td>0,43</td>")) {
			t.Errorf("de: an amount written the English way:\n%s", res.Text)
		}
	}
}

// TestTheCostsPageWritesDatesAsTheOtherPages (walk34): through a real
// Caddy, the costs page's span and its days (the chart's labels, its
// table) are written as the console's other dates are (date.format:
// "7 Dec 2026", "7.12.2026"), never "2026-12-07".
func TestTheCostsPageWritesDatesAsTheOtherPages(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	iso := regexp.MustCompile(`\b20\d\d-\d\d-\d\d\b`)
	for lang, layout := range map[string]string{"en": "2 Jan 2006", "de": "2.1.2006"} {
		alice.Header = http.Header{"Accept-Language": {lang}}
		res := alice.Get("/.smsgate/admin/costs")
		sitetest.Expect(t, res, http.StatusOK, "")
		today := s.Now().UTC().Format(layout)
		if found := iso.FindAllString(res.Text, 3); found != nil || !strings.Contains(res.Text, today) {
			t.Errorf("%s: dates %v written as no other page does, or no %q:\n%s", lang, found, today, res.Text)
		}
	}
}
