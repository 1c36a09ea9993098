package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestTwoAppConfirmsAtOnceAddOneApp: through a real Caddy, carol's two
// confirmations of one new app at once (a double submit) add one app, and
// her phone is told of it once: one is held right after it read the app
// being added until the other has been answered, on Badger and on Redis.
// Before, both added it: two apps with one secret (each wrong code then
// took two guess slots, and the devices page showed a ghost); then, with
// one added, both told her phone ("an authenticator app was added", twice).
// And when her session ended while one was held (the admin's revoke), the
// held one, which added nothing, undid the adding: the app the other had
// added, and been answered for, was removed (and the held one sent to the
// login page). Only the one that added the app notifies and may undo it;
// the other, its session ended, is sent to sign in again all the same.
func TestTwoAppConfirmsAtOnceAddOneApp(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		for _, revoked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/revoked=%v", kind, revoked), func(t *testing.T) {
				sitetest.Parallel(t)
				twoAppConfirms(t, kind, revoked)
			})
		}
	}
}

// twoAppConfirms is TestTwoAppConfirmsAtOnceAddOneApp on the store kind,
// carol's session ended by the admin while one is held if revoked.
func twoAppConfirms(t *testing.T, kind string, revoked bool) {
	s, dir := heldSite(t, kind)
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	tok := c.CSRF("/.smsgate/devices")
	m := appSecret.FindStringSubmatch(c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}).Text)
	if m == nil {
		t.Fatal("no app secret shown")
	}
	code := sitetest.AppCode(t, m[1])
	confirm := func() *sitetest.Response {
		return c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {code}, "csrf": {tok}})
	}
	sitetest.AddHold(t, dir, sitetest.Hold{Of: "carol", Op: "read", Key: "app-setup/*/carol"})
	held := sitetest.Park(t, dir, confirm) // held once it read the setup
	res := confirm()
	if revoked {
		if st, out := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"carol"}`); st != http.StatusOK {
			t.Fatalf("revoke: %d %s", st, out)
		}
	}
	heldRes := held.Release(t)
	_, users := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	if apps := strings.Count(users, `"kind":"totp"`); res.StatusCode != http.StatusOK || apps != 1 {
		t.Fatalf("two confirmations of one app at once: %d and, held, %d; %d apps, want 1: %s", res.StatusCode, heldRes.StatusCode, apps, users)
	}
	// The held one, which found the app added, answers for its own
	// session: done while it is live, else sent to sign in again, as a
	// phone's second code is (before, done with the session ended).
	if want := !revoked; (heldRes.StatusCode == http.StatusOK) != want ||
		!want && (heldRes.StatusCode != http.StatusSeeOther || !strings.Contains(heldRes.Header.Get("Location"), "/.smsgate/login")) {
		t.Errorf("the held confirmation, its session ended: %v: %d %s", revoked, heldRes.StatusCode, heldRes.Header.Get("Location"))
	}
	if added := noticesOf(s, "an authenticator app was added"); added != 1 {
		t.Errorf("two confirmations of one app at once: %d notices of it, want 1: %q", added, s.Notices())
	}
}

// heldSite is a real Caddy of carol's (a login form, her phone from the
// config) on the store kind ("badger", "redis") in a hold store (the
// package's sitetest.Holds), and the hold store's directory (for
// sitetest.Park); lines are more of the gate's options (a realm).
func heldSite(t *testing.T, kind string, lines ...string) (*sitetest.Site, string) {
	inner := "badger {DIR}"
	if kind == "redis" {
		inner = "redis " + redistest.Server(t)
	}
	dir := t.TempDir()
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
`+strings.Join(append(lines, ""), "\n")+`		user carol +14155552671
		store smsgate_test_hold `+dir+` `+inner+`
		provider log
	}
	respond "Hello, {http.auth.user.id}"
}`)
	return s, dir
}

// noticesOf counts the notices s sent that say what.
func noticesOf(s *sitetest.Site, what string) int {
	n := 0
	for _, m := range s.Notices() {
		if strings.Contains(m, what) {
			n++
		}
	}
	return n
}
