package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnInviteReplacedWhileItsEnrollmentRunsEnrollsNothing (invite26,
// review27 I3): bob accepts link A and is sent his new phone's code; the
// admin then mints B for him (the admin API). A's code, typed, enrolls
// nothing (its page says the code no longer works), and no other code is
// sent for A's flow; B enrolls. On Badger and Redis, through a real
// Caddy. (Before, A's flow enrolled its phone, and B another: two phones
// from invites of which one stood.)
func TestAnInviteReplacedWhileItsEnrollmentRunsEnrollsNothing(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"bob"}, limitsOff)
		mint := func() string {
			t.Helper()
			st, out := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"bob"}`)
			var inv struct{ Path string }
			if st != http.StatusOK || json.Unmarshal([]byte(out), &inv) != nil || inv.Path == "" {
				t.Fatalf("an invite: %d %s", st, out)
			}
			return strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
		}
		enrolled := func() bool {
			t.Helper()
			_, users := s.Admin("GET", "/smsgate/users?realm=localhost", "")
			return strings.Contains(users, `"user":"bob"`)
		}
		a := mint()
		byA := sitetest.NewClient(t, "bob")
		tok := byA.CSRF("/.smsgate/invite?token=" + a)
		sitetest.Expect(t, byA.Post("/.smsgate/invite", url.Values{"token": {a}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
		sitetest.Expect(t, byA.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		codeA := s.LastCode()

		b := mint()
		res := byA.Post("/.smsgate/verify", url.Values{"code": {codeA}, "csrf": {tok}})
		if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" || enrolled() {
			t.Fatalf("A's code, typed after B was minted: %d %s; bob enrolled %v", res.StatusCode, res.Header.Get("Location"), enrolled())
		}
		sent := s.Sent()
		byA.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552673"}, "csrf": {tok}})
		if s.Sent() != sent {
			t.Errorf("A's flow was sent another code after B was minted")
		}

		byB := sitetest.NewClient(t, "bob")
		tokB := byB.CSRF("/.smsgate/invite?token=" + b)
		sitetest.Expect(t, byB.Post("/.smsgate/invite", url.Values{"token": {b}, "csrf": {tokB}}), http.StatusSeeOther, "/.smsgate/enroll")
		sitetest.Expect(t, byB.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {tokB}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.ExpectEnrolled(t, byB.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tokB}}), "/")
		sitetest.ExpectBody(t, byB.Get("/"), "Hello, bob!")
	})
}
