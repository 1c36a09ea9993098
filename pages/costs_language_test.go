package pages_test

import (
	"fmt"
	"net/http"
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
	for lang, want := range map[string]string{"de": "Geschätzte Kosten: 0,43 €.", "en": "Estimated cost: 0.43 EUR."} {
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
