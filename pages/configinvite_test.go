package pages_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestNoInviteForAConfigPhoneUser: through a real Caddy, the console's
// page of demo, whose phone is in the Caddyfile (`user demo +1…`),
// offers no "Make an invite" and says why: her phone is set in the
// configuration, they can already sign in with it wherever this site
// accepts a phone; in English and German. Before
// (walk35's A1 to A3), the invite was made, and taking it texted the
// config phone and was logged as used: an invite that did nothing.
func TestNoInviteForAConfigPhoneUser(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice\n\t\tuser demo +14155552671")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	path := "/.smsgate/admin/user?name=demo"
	page := alice.Get(path)
	sitetest.Expect(t, page, http.StatusOK, "")
	const said = "demo&#39;s phone is set in the configuration: they can already sign in with it wherever this site accepts a phone."
	if strings.Contains(page.Text, `value="invite"`) || !strings.Contains(page.Text, said) {
		t.Fatalf("demo's page offers an invite, or does not say why not:\n%s", page.Text)
	}
	de := alice.GetWith(path, map[string]string{"Accept-Language": "de"})
	if !strings.Contains(de.Text, "demo hat eine Telefonnummer aus der Konfiguration und kann sich damit bereits überall dort anmelden, wo diese Seite ein Telefon annimmt.") {
		t.Errorf("the German page does not say it:\n%s", de.Text)
	}
}
