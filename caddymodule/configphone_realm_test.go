package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// kioskAndPortal is the README's portal behind a password beside a
// kiosk, on one store: gate a (a login form) gives carol her phone in its
// config (`user carol +1…`); gate b of the same realm, in the same Caddy,
// is behind basic_auth (carol's password "demo") with enrollment open.
func kioskAndPortal(t *testing.T, storeLine string) (s *sitetest.Site, a, b func(path string) string) {
	t.Helper()
	return twoGates(t, `smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		`+storeLine+`
		provider log
	}`, portalGate(storeLine))
}

// portalGate is kioskAndPortal's gate b: carol behind basic_auth (her
// password "demo"), no config line giving her a phone.
func portalGate(storeLine string) string {
	return `basic_auth argon2id {
		carol ` + sitetest.DemoHash + `
	}
	smsgate {
		realm sso.localhost
		cookie_domain sso.localhost
		` + storeLine + `
		provider log
	}`
}

// lastTo is the masked number the last code or notice went to.
func lastTo(s *sitetest.Site) string {
	sent := s.LogEntries("verification code", "notice")
	if len(sent) == 0 {
		return ""
	}
	return fmt.Sprint(sent[len(sent)-1]["to"])
}

// TestAConfigPhoneUserIsNoNewcomerAtTheRealmsOtherGate (attack34 F2): at
// gate b, which has no `user carol` line, carol's phone from gate a's
// config is hers all the same: whoever holds her password is asked for a
// code to it (as for an enrolled phone), never sent to enroll his own
// phone as her first, whose session opened the kiosk a as carol. Its
// enroll page sends him on to the code, a POST to it sends nothing to his
// number, an invite for her leads to the code too (one minted before the
// config gave her the phone: none is minted since, invite36); carol
// herself signs in at b with a code to her phone, her devices page there
// lists it, and that session opens a.
func TestAConfigPhoneUserIsNoNewcomerAtTheRealmsOtherGate(t *testing.T) {
	sitetest.Parallel(t) // the parts too
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		// The portal alone first, where carol is nobody's config phone:
		// an invite for her is made.
		before := sitetest.Start(t, "http://b.sso.localhost:{HTTP_PORT} {\n\t"+portalGate(storeLine)+"\n\trespond \"b {http.auth.user.id}\"\n}")
		st, out := before.Admin("POST", "/smsgate/invites", `{"realm":"sso.localhost","user":"carol","ttl":"1h"}`)
		var inv struct{ Path string }
		if st != http.StatusOK || json.Unmarshal([]byte(out), &inv) != nil {
			t.Fatalf("invite: %d %s", st, out)
		}
		s, a, b := kioskAndPortal(t, keep(before))
		thief := sitetest.NewClient(t, "carol") // carol's password, not her phone
		sitetest.Expect(t, thief.GetURL(b("/.smsgate/login?rd=%2F")), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, thief.GetURL(b("/.smsgate/enroll")), http.StatusSeeOther, "/.smsgate/verify")
		page := thief.GetURL(b("/.smsgate/verify"))
		tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
		if !strings.Contains(page.Text, "671") {
			t.Errorf("b's verify page names no phone of carol's (…671): %q", page.Text)
		}
		sent := s.Sent()
		sitetest.Expect(t, thief.PostURL(b("/.smsgate/enroll"), url.Values{"phone": {"+14155550199"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		if s.Sent() != sent {
			t.Errorf("an enroll POST at b sent a text, to %s", lastTo(s))
		}
		sitetest.Expect(t, thief.PostURL(b("/.smsgate/verify"), url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		if to := lastTo(s); !strings.HasSuffix(to, "671") {
			t.Fatalf("b's code for carol went to %q, not to her phone (…671)", to)
		}
		// He holds no code of hers: a wrong one, then the kiosk still shut.
		thief.PostURL(b("/.smsgate/verify"), url.Values{"code": {"000000"}, "csrf": {tok}})
		// An invite for her (leaked, minted before the config gave her
		// the phone) leads him to her code too, not to enroll.
		tok = sitetest.CSRFField.FindStringSubmatch(thief.GetURL(b(inv.Path)).Text)[1]
		sitetest.Expect(t, thief.PostURL(b("/.smsgate/invite"), url.Values{"token": {strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")}, "csrf": {tok}}),
			http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, thief.GetURL(b("/.smsgate/enroll")), http.StatusSeeOther, "/.smsgate/verify")
		thief.User = ""
		if res := thief.GetURL(a("/")); res.StatusCode == http.StatusOK {
			t.Errorf("gate a admits carol without her phone: %q", res.Text)
		}

		carol := sitetest.NewClient(t, "carol")
		sitetest.Expect(t, carol.GetURL(b("/.smsgate/login?rd=%2F")), http.StatusSeeOther, "/.smsgate/verify")
		tok = sitetest.CSRFField.FindStringSubmatch(carol.GetURL(b("/.smsgate/verify")).Text)[1]
		s.Advance(2 * 60e9) // past the thief's code's cooldown
		carol.PostURL(b("/.smsgate/verify"), url.Values{"action": {"send"}, "csrf": {tok}})
		sitetest.Expect(t, carol.PostURL(b("/.smsgate/verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, carol.GetURL(b("/")), "b carol")
		sitetest.ExpectBody(t, carol.GetURL(b("/.smsgate/devices")), `id="config-phone"`) // hers, with no Remove
		carol.User = ""
		sitetest.ExpectBody(t, carol.GetURL(a("/")), "a carol")
	})
}
