package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnAppRemovedDuringItsSignInSignsNobodyIn: alice's authenticator
// app's secret leaks (a lost phone, a backup); a thief with her password
// types its code while the admin removes the app (the admin API). The
// thief's check is held once it found the app and its code right (at its
// write of the code's step), the removal runs whole and is answered, and
// the check goes on: it must sign nobody in, as a texted code's check of
// a removed phone does not (a sign-in with a removed device is refused; one
// it let in came before the removal). On Badger and on Redis, through a
// real Caddy. (Before, the check read the apps once, before the removal,
// and signed the thief in after it: 303 to /.)
func TestAnAppRemovedDuringItsSignInSignsNobodyIn(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := holdSite(t, storeLine, dir)
		owner := sitetest.NewClient(t, "alice")
		signIn(t, s, owner)
		secret, tok := appSetup(t, owner)
		sitetest.Expect(t, owner.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusOK, "")
		app := appOf(t, s, "alice")
		s.Advance(30 * time.Second) // the confirming code's step is used

		thief := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		vt := thief.CSRF("/.smsgate/verify")
		code := sitetest.AppCode(t, secret)
		sitetest.AddHold(t, dir, sitetest.Hold{Of: "alice", Op: "write", Key: "app-used/*/alice/*/*"}) // at its write of the code's step
		held := sitetest.Park(t, dir, func() *sitetest.Response {
			return thief.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {code}, "csrf": {vt}})
		})
		if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, app)); st != http.StatusOK {
			t.Fatalf("removing the app: %d %s", st, out)
		}
		res := held.Release(t)
		if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" || thief.Cookie("smsgate_session") != "" {
			t.Fatalf("a code of an app the admin removed meanwhile signed in: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("after a code of a removed app: %d %s", res.StatusCode, res.Text)
		}
	})
}

// appSetup has c start adding an authenticator app on its devices page,
// and returns the app's secret and the page's CSRF token.
func appSetup(t *testing.T, c *sitetest.Client) (secret, tok string) {
	t.Helper()
	tok = c.CSRF("/.smsgate/devices")
	res := c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}})
	m := regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`).FindStringSubmatch(res.Text)
	if m == nil {
		t.Fatalf("no app secret: %d\n%s", res.StatusCode, res.Text)
	}
	return m[1], tok
}

// appOf is the ID of user's authenticator app, as the admin API lists it.
func appOf(t *testing.T, s *sitetest.Site, user string) string {
	t.Helper()
	_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	var list []struct {
		User    string
		Devices []struct{ ID, Kind string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("users: %v %s", err, out)
	}
	for _, u := range list {
		for _, d := range u.Devices {
			if u.User == user && d.Kind == "totp" {
				return d.ID
			}
		}
	}
	t.Fatalf("%s has no app: %s", user, out)
	return ""
}
