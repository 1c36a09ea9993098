package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestGatesOfARealmThatCheckDifferentlyAreWarnedOf: a realm's /admin gate
// with Twilio Lookup (sim_swap_within, each_send) beside the site's gate
// without it. Sessions are the realm's and record how they were earned,
// not what was checked before the code: the site's gate texts a SIM
// swapped an hour ago, and its session opens /admin. The load says so,
// naming both gates and what differs, and tells the admin to give the
// stricter gate its own realm (the attacker's scenario still runs: a
// warning, not a refusal).
func TestGatesOfARealmThatCheckDifferentlyAreWarnedOf(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	twilio := func(lookup string) string {
		return fmt.Sprintf(`provider twilio {
				account_sid %s
				auth_token %s
				from +15005550006
				base_url %s
				%s
			}`, f.AccountSID, f.AuthToken, f.URL, lookup)
	}
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	handle /admin/* {
		smsgate {
			path_prefix /admin/.smsgate/
			store badger {DIR}
			%[2]s
		}
		respond "admin {http.auth.user.id}"
	}
	handle {
		smsgate {
			store badger {DIR}
			%[3]s
		}
		respond "home {http.auth.user.id}"
	}
}`, sitetest.DemoHash, twilio(fmt.Sprintf(`lookup {
					sim_swap_within 7d
					each_send
					cache 1ns
					base_url %s
				}`, f.URL)), twilio("")))

	warned := s.LogEntries("gates of one realm check differently before a code, and share their sessions: a session the looser gate issues opens the stricter one. Give the stricter gate its own realm (realm admin.example.com, say) for it to sign its users in itself")
	if len(warned) != 1 {
		t.Fatalf("%d warnings of the realm's mixed checks; want one: %v", len(warned), warned)
	}
	w := warned[0]
	gates := []string{fmt.Sprint(w["gate"]), fmt.Sprint(w["other_gate"])}
	slices.Sort(gates)
	site := s.WithPorts("http://localhost:{HTTP_PORT}")
	if w["realm"] != "localhost" || gates[0] != site+" /.smsgate/" || gates[1] != site+" /admin/.smsgate/" ||
		fmt.Sprint(w["differ"]) != "[lookup]" {
		t.Fatalf("the warning: %v", w)
	}

	// What it warns of: alice enrolled at the site, her SIM swapped an
	// hour ago.
	alice := sitetest.NewClient(t, "alice")
	res, tok := sitetest.EnrollWith(t, alice, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {fakes.CodeIn(f.Last(t).Form["Body"])}, "csrf": {tok}}), "/")
	f.SIMSwapped["+14155552671"] = time.Now().Add(-time.Hour)
	s.Advance(time.Minute)
	thief := sitetest.NewClient(t, "alice")
	tok = thief.CSRF("/admin/.smsgate/verify")
	sitetest.Expect(t, thief.Post("/admin/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusForbidden, "")
	tok = thief.CSRF("/.smsgate/verify")
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {fakes.CodeIn(f.Last(t).Form["Body"])}, "csrf": {tok}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, thief.Get("/admin/x"), "admin alice")
}
