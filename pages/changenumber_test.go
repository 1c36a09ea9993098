package pages_test

import (
	"net/http"
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
	if !strings.Contains(back.Text, `name="phone" value="&#43;14155550177"`) {
		t.Errorf("the number she typed is not in the field:\n%s", back.Text)
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
