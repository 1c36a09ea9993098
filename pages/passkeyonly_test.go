package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// passkeyOnlySite is one realm with two gates: the site's, which takes
// every kind, and /apps, which takes texts and apps but no passkeys.
// site is the site's lines before them (a first factor); gate, both
// gates' identity lines.
func passkeyOnlySite(site, gate string) string {
	return `http://localhost:{HTTP_PORT} {
	` + site + `
	handle /apps* {
		smsgate {
			` + gate + `
			realm localhost
			path_prefix /apps/.smsgate/
			factors sms totp
			store badger {DIR}
			provider log
		}
		respond "apps {http.auth.user.id} ({http.auth.user.amr})"
	}
	handle {
		smsgate {
			` + gate + `
			realm localhost
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
	}
}`
}

// keepOnlyAPasskey has c, signed in at the site's gate with a fresh code,
// add a passkey and remove its phone: c's user then holds only the passkey
// (and recovery codes, re-pointed to the passkey: codesMadeElsewhere).
func keepOnlyAPasskey(t *testing.T, s *sitetest.Site, c *sitetest.Client) {
	t.Helper()
	origin := s.WithPorts(s.Base)
	phoneID := deviceID.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1]
	begin := passkeyCall(c, "register/begin", origin, nil)
	answer, err := fakes.NewAuthenticator("localhost", origin).Create([]byte(begin.Text))
	if err != nil {
		t.Fatal(err)
	}
	if res := passkeyCall(c, "register/finish", origin, answer); res.StatusCode != http.StatusOK {
		t.Fatalf("register/finish: %d %s", res.StatusCode, res.Text)
	}
	// Her codes, as though the passkey's session had made them: they
	// outlive the phone, whose enrollment's set goes with it (attack41).
	_, listed := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	passkey := regexp.MustCompile(`"id":"([A-Z0-9]+)"[^}]*"kind":"passkey"`).FindStringSubmatch(listed)
	if passkey == nil {
		t.Fatal("no passkey listed")
	}
	codesMadeElsewhere(t, s, passkey[1])
	tok := c.CSRF("/.smsgate/devices")
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {phoneID}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")
	if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, `"kind":"phone"`) || !strings.Contains(out, `"kind":"passkey"`) {
		t.Fatalf("not a passkey alone: %s", out)
	}
}

// TestAPasskeyAloneAtAGateThatTakesNone: ann holds only a passkey (she
// added it at the site's gate and removed her phone) and recovery codes;
// /apps takes texts and apps, not passkeys. Its step-up for adding an app
// must prove the passkey she holds (a texted session must not add its own
// app), which that gate cannot take: it stays refused (fail closed), and
// the devices page says where the change can be made, instead of sending
// her to a step-up that asks for an app — the one she came to add (before:
// 303 to a verify page with nothing she could use, "add one on your devices
// page"). Behind a first factor, the verify page of /apps says that the
// passkey is not taken there, rather than a page with no way on. With a
// login form that page cannot say so (it would tell who has a passkey):
// a recovery code signs her in there. Through a real Caddy.
func TestAPasskeyAloneAtAGateThatTakesNone(t *testing.T) {
	sitetest.Parallel(t)
	t.Run("login form", func(t *testing.T) {
		s := sitetest.Start(t, passkeyOnlySite("", "identity none"))
		c, codes := annInvited(t, s)
		keepOnlyAPasskey(t, s, c)

		a := sitetest.NewClient(t, "")
		atok := a.CSRF("/apps/.smsgate/login")
		sitetest.Expect(t, a.Post("/apps/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {atok}}), http.StatusSeeOther, "/apps/.smsgate/verify")
		sitetest.Expect(t, a.Post("/apps/.smsgate/verify", url.Values{"code": {codes[0]}, "csrf": {atok}}), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, a.Get("/apps/"), "apps ann (recovery)")
		atok = a.CSRF("/apps/.smsgate/devices")
		res := a.Post("/apps/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {atok}})
		sitetest.Expect(t, res, http.StatusBadRequest, "")
		sitetest.ExpectBody(t, res, "you first sign in with a passkey, which this page does not take. Make the change on a page of this site that takes a passkey")
		if strings.Contains(res.Text, "otpauth://") {
			t.Fatal("an app's secret without the passkey proved")
		}
	})
	t.Run("first factor", func(t *testing.T) {
		s := sitetest.Start(t, passkeyOnlySite("basic_auth argon2id {\n\t\tann "+sitetest.DemoHash+"\n\t}", "enrollment open"))
		c := sitetest.NewClient(t, "ann")
		sitetest.Enroll(t, s, c, "+14155552671")
		keepOnlyAPasskey(t, s, c)

		a := sitetest.NewClient(t, "ann")
		sitetest.Expect(t, a.Get("/apps/.smsgate/login?rd=%2Fapps%2F"), http.StatusSeeOther, "/apps/.smsgate/verify")
		res := a.Get("/apps/.smsgate/verify")
		sitetest.ExpectBody(t, res, "You have no device this page takes: it does not take a passkey. Sign in where this site takes a passkey")
		sitetest.ExpectBody(t, res, "Sign in with a recovery code")
	})
}
