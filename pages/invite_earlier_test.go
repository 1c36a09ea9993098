package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestOnlyAReplacingInviteSaysTheEarlierLinksEnd (walk34's 61): through a
// real Caddy, the console's first invite for bob says nothing of earlier
// links (he had none); a second, minted while the first is open, says
// the earlier ones no longer work, in English and German. Before, every
// invite said "Earlier invite links for bob no longer work."
func TestOnlyAReplacingInviteSaysTheEarlierLinksEnd(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	path := "/.smsgate/admin/user?name=bob"
	tok := alice.CSRF(path)
	invite := func(lang string) string {
		t.Helper()
		alice.Header = http.Header{"Accept-Language": {lang}}
		page := sitetest.ConsoleDone(t, consolePost(alice, path, url.Values{"action": {"invite"}, "csrf": {tok}}, s.Base), "invite")
		sitetest.Expect(t, page, http.StatusOK, "")
		sitetest.ExpectBody(t, page, "/.smsgate/invite?token=")
		return page.Text
	}
	const en, de = "Earlier invite links for bob no longer work.", "Frühere Einladungslinks für bob funktionieren nicht mehr."
	if page := invite("en"); strings.Contains(page, "Earlier invite links") {
		t.Errorf("bob's first invite speaks of earlier links:\n%s", page)
	}
	if page := invite("en"); !strings.Contains(page, en) {
		t.Errorf("bob's second invite, the first open, does not say %q:\n%s", en, page)
	}
	if page := invite("de"); !strings.Contains(page, de) {
		t.Errorf("bob's third invite, in German, does not say %q:\n%s", de, page)
	}
}
