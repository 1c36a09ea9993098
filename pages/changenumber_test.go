package pages_test

import (
	"net/http"
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
func TestChangeNumberInHerCountrysFormat(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Basic(t, "default_region DE")
	for _, tc := range []struct{ user, typed, field, region string }{
		{"alice", "0151 23456780", "01512 3456780", "DE"},
		{"bob", "+1 415 555 0177", "(415) 555-0177", "US"},
	} {
		c := sitetest.NewClient(t, tc.user)
		sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
		res, _ := sitetest.EnrollWith(t, c, tc.typed)
		sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
		back := c.GetWith("/.smsgate/enroll?change=1", map[string]string{"Accept-Language": "de"})
		if !strings.Contains(back.Text, `name="phone" value="`+tc.field+`"`) || !regexp.MustCompile(`<option value="`+tc.region+`"[^>]* selected>`).MatchString(back.Text) {
			t.Errorf("%s typed %q: the field should say %q, %s chosen:\n%s", tc.user, tc.typed, tc.field, tc.region, back.Text)
		}
	}
}
