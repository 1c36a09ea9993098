package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheConfigPhoneIsMarkedDefaultWhereCodesGoToIt (walk34's 32, 33):
// carol's phone is in the Caddyfile (`user carol +1…`) and codes go to
// it (signin.DeviceOf: this gate's line wins); her devices page marks it
// default in JSON, and in HTML once she has added a phone of her own
// (which is then not marked; one phone alone bears no mark: ux36). Before: `"default": false` on
// her only phone, and her own phone marked default though no code went
// to it. On Badger and Redis, through a real Caddy.
func TestTheConfigPhoneIsMarkedDefaultWhereCodesGoToIt(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"carol"}, "\t\tuser carol +14155552671\n"+limitsOff)
		carol := sitetest.NewClient(t, "carol")
		signIn(t, s, carol)
		row := regexp.MustCompile(`(?s)<li id="config-phone">.*?</li>`)
		check := func(when string, own int) {
			t.Helper()
			page := carol.Get("/.smsgate/devices")
			// The page marks the default only among two phones or more (ux36).
			if r := row.FindString(page.Text); own > 0 && (!strings.Contains(r, `class="badge"`) || strings.Count(page.Text, `class="badge"`) != 1) || own == 0 && strings.Contains(page.Text, `class="badge"`) {
				t.Errorf("%s: the config's phone is not the one default (row %q):\n%s", when, r, page.Text)
			}
			res := carol.GetWith("/.smsgate/devices", map[string]string{"Accept": "application/json"})
			var got struct {
				Devices []struct {
					ID      string `json:"id"`
					Default bool   `json:"default"`
					SetBy   string `json:"set_by"`
				} `json:"devices"`
			}
			if err := json.Unmarshal([]byte(res.Text), &got); err != nil || len(got.Devices) != own+1 {
				t.Fatalf("%s: the devices as JSON: %v\n%s", when, err, res.Text)
			}
			for _, d := range got.Devices {
				if d.Default != (d.SetBy == "administrator") {
					t.Errorf("%s: %+v marked default %v:\n%s", when, d, d.Default, res.Text)
				}
			}
		}
		check("her only phone", 0)
		tok := carol.CSRF("/.smsgate/devices")
		sitetest.Expect(t, carol.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155559001"}, "name": {"P"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
		check("beside her own", 1)
	})
}
