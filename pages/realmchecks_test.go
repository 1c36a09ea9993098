package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/admin"
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
	s, f := lookupAtAdmin(t, "")

	warned := s.LogEntries(mixedChecks)
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

// The cure the warning names: the /admin gate in a realm of its own signs
// its users in itself (alice enrolls there too: a realm is its own users),
// so the site's session, texted to the swapped SIM, opens no /admin. On
// one host the two realms share the session cookie's name: a sign-in at
// one gate ends the other's session in that browser.
func TestAStricterGatesOwnRealmTakesNoSessionOfTheSite(t *testing.T) {
	sitetest.Parallel(t)
	s, f := lookupAtAdmin(t, "realm admin.localhost")
	if n := len(s.LogEntries(mixedChecks)); n != 0 {
		t.Fatalf("%d warnings of mixed checks for gates of two realms", n)
	}
	alice := sitetest.NewClient(t, "alice")
	for _, prefix := range []string{"/.smsgate/", "/admin/.smsgate/"} {
		tok := alice.CSRF(prefix + "enroll")
		sitetest.Expect(t, alice.Post(prefix+"enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, prefix+"verify")
		sitetest.Expect(t, alice.Post(prefix+"verify", url.Values{"code": {fakes.CodeIn(f.Last(t).Form["Body"])}, "csrf": {tok}}), http.StatusSeeOther, prefix+"recovery")
	}
	f.SIMSwapped["+14155552671"] = time.Now().Add(-time.Hour)
	s.Advance(time.Minute)
	thief := sitetest.NewClient(t, "alice")
	tok := thief.CSRF("/.smsgate/verify")
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {fakes.CodeIn(f.Last(t).Form["Body"])}, "csrf": {tok}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, thief.Get("/x"), "home alice")
	sitetest.Expect(t, thief.Get("/admin/x"), http.StatusFound, "/admin/.smsgate/login?rd=%2Fadmin%2Fx")
	tok = thief.CSRF("/admin/.smsgate/verify")
	sitetest.Expect(t, thief.Post("/admin/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusForbidden, "")
}

const mixedChecks = admin.MixedChecks

// lookupAtAdmin starts a site behind basic_auth (alice) whose /admin gate
// (its options adminOptions) checks each send with Twilio Lookup
// (sim_swap_within 7d, each_send) and whose other gate does not; both on
// one store and the fake Twilio f.
func lookupAtAdmin(t *testing.T, adminOptions string) (*sitetest.Site, *fakes.Twilio) {
	t.Helper()
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
	return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	handle /admin/* {
		smsgate {
			path_prefix /admin/.smsgate/
			%[4]s
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
				}`, f.URL)), twilio(""), adminOptions)), f
}
