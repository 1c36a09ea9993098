package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestNoInviteForATwinOfAConfigUser (review36's 1), on Badger and a real
// Redis: the config gives carol her phone at this gate and bob his at a
// login form of the realm; behind a first factor that passes the name as
// typed (basic_auth holding "Carol" stands in for a case-blind SSO where
// carol's password logs in as Carol), Carol's own first enrollment is
// refused as carol's twin (403). An invite for "Carol", or for "BOB", is
// refused as carol's and bob's are (409), through the admin API and the
// console's POST, in words that name the spelling the config holds and
// no number; the console's page of Carol offers no "Make an invite" and
// says why; no invite record is written. Before (RefuseInvite compared
// names exactly), both were minted (200), and Carol's, taken, enrolled
// the holder's own phone beside carol's config phone and let him in as
// "Carol" (the invite skips the twin check: InvitedAs).
func TestNoInviteForATwinOfAConfigUser(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		s := configPhonesSite(t, storeLine, "Carol") // Carol: a case-blind SSO's spelling of carol
		twin := sitetest.NewClient(t, "Carol")
		if res := twin.Get("/.smsgate/enroll"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("Carol's own enrollment beside the config's carol: %d, want 403 (twin)", res.StatusCode)
		}
		for user, held := range map[string]string{"Carol": "carol", "BOB": "bob"} {
			st, out := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"`+user+`","ttl":"1h"}`)
			if st == http.StatusOK && user == "Carol" {
				var inv struct{ Path string }
				_ = json.Unmarshal([]byte(out), &inv)
				tok := twin.CSRF(inv.Path)
				twin.Post("/.smsgate/invite", url.Values{"token": {strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")}, "csrf": {tok}})
				twin.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550177"}, "csrf": {tok}})
				r := twin.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
				t.Errorf("its holder, signed in as Carol, enrolled his phone beside carol's: verify %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			said := `"error":"No invite for this name: it differs only in capital letters, spacing or invisible characters from ` + held + `, whose phone is set in the configuration`
			if st != http.StatusConflict || !strings.Contains(out, said) || strings.Contains(out, "token=") || strings.Contains(out, "4155") {
				t.Errorf("the admin API's invite for %s, %s's twin: %d %s, want 409 naming %s", user, held, st, out, held)
			}
		}
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		path := "/.smsgate/admin/user?name=Carol"
		const why = "No invite for this name: it differs only in capital letters, spacing or invisible characters from carol, whose phone is set in the configuration"
		if page := alice.Get(path); page.StatusCode != http.StatusOK || strings.Contains(page.Text, `value="invite"`) || !strings.Contains(page.Text, why) {
			t.Errorf("the console's page of Carol offers an invite, or does not say why not: %d\n%s", page.StatusCode, page.Text)
		}
		if de := alice.GetWith(path, map[string]string{"Accept-Language": "de"}); !strings.Contains(de.Text, "Keine Einladung für diesen Namen: Er unterscheidet sich nur in Groß- und Kleinschreibung, Leerzeichen oder unsichtbaren Zeichen von carol,") {
			t.Errorf("the German page of Carol does not say why no invite:\n%s", de.Text)
		}
		res := alice.PostWith(path, url.Values{"action": {"invite"}, "csrf": {alice.CSRF(path)}}, map[string]string{"Origin": s.Base})
		if res.StatusCode != http.StatusConflict || !strings.Contains(res.Text, why) || strings.Contains(res.Text, "token=") || strings.Contains(res.Text, "4155") {
			t.Errorf("the console's invite for Carol: %d\n%s", res.StatusCode, res.Text)
		}
		noInviteFor(t, keep(s), "Carol", "BOB")
	})
}
