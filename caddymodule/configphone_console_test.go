package caddymodule_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheConsoleListsAConfigPhone (walk34's 50c, 55c): carol, whose phone
// is in the Caddyfile (`user carol +1…`) and who holds no device record,
// is listed in the admin's People with that phone, masked and "set in the
// configuration", and her user page shows it so, with no Remove, in
// English and German. Before, People left her out and her page said "No
// devices." of a user who signs in by text daily. On Badger and Redis,
// through a real Caddy.
func TestTheConsoleListsAConfigPhone(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"bob"}, "\t\tuser carol +14155552671\n\t\tuser bob +14155550199\n\t\tadmins bob\n"+limitsOff)
		admin := sitetest.NewClient(t, "bob")
		signIn(t, s, admin)
		for lang, said := range map[string][2]string{"en": {"set in the configuration", "No devices."}, "de": {"in der Konfiguration festgelegt", "Keine Geräte."}} {
			admin.Header = http.Header{"Accept-Language": {lang}}
			for _, page := range []string{"/.smsgate/admin/", "/.smsgate/admin/?q=car", "/.smsgate/admin/user?name=carol"} {
				res := admin.Get(page)
				sitetest.Expect(t, res, http.StatusOK, "")
				text := html.UnescapeString(res.Text)
				if !strings.Contains(text, "<td>+1•••••••671</td>") || !strings.Contains(text, "<td>"+said[0]+"</td>") ||
					strings.Contains(text, said[1]) || strings.Contains(text, "4155552671") {
					t.Errorf("%s in %s: carol's config phone, masked, %q?\n%s", page, lang, said[0], res.Text)
				}
				if strings.Contains(page, "user?") && strings.Contains(text, `name="device"`) {
					t.Errorf("%s: a Remove on the config's phone:\n%s", page, res.Text)
				}
			}
		}
	})
}
