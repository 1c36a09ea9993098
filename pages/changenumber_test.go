package pages_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// TestChangeNumberKeepsWhatSheTyped: through a real Caddy, "Wrong number?
// Change it" leads back to the enroll page with the number she typed in
// its field (she corrects a digit), from her own flow only: another user
// holding her flow cookie, or a browser without it, gets an empty field.
// Before, the field was empty (walk29, 23).
func TestChangeNumberKeepsWhatSheTyped(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
	res, _ := sitetest.EnrollWith(t, alice, "+14155550177")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectBody(t, alice.Get("/.smsgate/verify"), "enroll?change=1")

	back := alice.Get("/.smsgate/enroll?change=1")
	sitetest.Expect(t, back, http.StatusOK, "")
	if !strings.Contains(back.Text, `name="phone" value="(415) 555-0177"`) || !regexp.MustCompile(`<option value="US"[^>]* selected>`).MatchString(back.Text) {
		t.Errorf("the number she typed is not in the field, as she knows it (its country chosen):\n%s", back.Text)
	}

	// Bob, with her flow cookie (one browser, two basic_auth users), and a
	// browser of bob's own: no number of hers.
	bob := sitetest.NewClient(t, "bob")
	sitetest.Expect(t, bob.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
	if page := bob.Get("/.smsgate/enroll?change=1"); strings.Contains(page.Text, "0177") || !strings.Contains(page.Text, `name="phone" value=""`) {
		t.Errorf("bob's own page shows a number:\n%s", page.Text)
	}
	bob.SetCookie(pages.FlowCookie, alice.Cookie(pages.FlowCookie))
	if page := bob.Get("/.smsgate/enroll?change=1"); strings.Contains(page.Text, "0177") {
		t.Errorf("bob with alice's flow sees her number:\n%s", page.Text)
	}
}

// TestChangeNumberInHerCountrysFormat: through a real Caddy, a German
// number typed as she knows it ("0151 23456780", Germany the gate's
// default region) comes back to the field in its national format ("01512 3456780"), not as
// +4915123456780 (walk33, 03 and 33); and a US number at the same gate
// comes back in the US's national format, the US chosen in the picker.
// What the field says, sent back unchanged with the region the page
// chose, is the same number: an Argentine mobile, which the phone
// library writes nationally without its area code ("09 15-5123-4567",
// refused as no number: review34 R1), stays whole.
func TestChangeNumberInHerCountrysFormat(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Basic(t, "default_region DE")
	changeBack(t, sitetest.NewClient(t, "alice"), "0151 23456780", "01512 3456780", "DE")
	changeBack(t, sitetest.NewClient(t, "bob"), "+1 415 555 0177", "(415) 555-0177", "US")
	sitetest.Basic(t, "default_region AR")
	changeBack(t, sitetest.NewClient(t, "alice"), "+54 9 11 5123-4567", "+5491151234567", "AR")
}

// changeBack enrolls c's user with typed, goes back to change it, expects
// field in the field and region chosen, and sends the field back as it is:
// the same number, whose code is not due again yet (429), never "not a
// valid phone number" (400).
func changeBack(t *testing.T, c *sitetest.Client, typed, field, region string) {
	t.Helper()
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
	res, _ := sitetest.EnrollWith(t, c, typed)
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	back := c.GetWith("/.smsgate/enroll?change=1", map[string]string{"Accept-Language": "de"})
	if !strings.Contains(html.UnescapeString(back.Text), `name="phone" value="`+field+`"`) || !regexp.MustCompile(`<option value="`+region+`"[^>]* selected>`).MatchString(back.Text) {
		t.Errorf("typed %q: the field should say %q, %s chosen:\n%s", typed, field, region, back.Text)
		return
	}
	tok := c.CSRF("/.smsgate/enroll?change=1")
	again := c.Post("/.smsgate/enroll", url.Values{"phone": {field}, "region": {region}, "csrf": {tok}})
	if again.StatusCode == http.StatusBadRequest {
		t.Errorf("the field's %q, sent back with %s chosen, is refused:\n%s", field, region, again.Text)
	}
}
