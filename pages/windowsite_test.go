package pages_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// windowSite is a login form on a hold store (its folder dir, over a
// Badger or a Redis of the test's own) whose requests the window tests
// park (sitetest.Park) to write a revocation while a change is held.
type windowSite struct {
	*sitetest.Site
	dir string
}

// startWindowSite starts it on kind ("badger" or "redis"), admins (none:
// "") its admins, each [user, phone] added through the admin API.
func startWindowSite(t *testing.T, kind, admins string, phones ...[2]string) *windowSite {
	t.Helper()
	inner := "badger {DIR}"
	if kind == "redis" {
		inner = "redis " + redistest.Server(t)
	}
	if admins != "" {
		admins = "admins " + admins
	}
	w := &windowSite{dir: t.TempDir()}
	w.Site = sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		%s
		store smsgate_test_hold %s %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, admins, w.dir, inner))
	for _, u := range phones {
		if st, out := w.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"`+u[0]+`","phone":"`+u[1]+`"}`); st != http.StatusOK {
			t.Fatalf("adding %s: %d %s", u[0], st, out)
		}
	}
	return w
}

// users is the realm's users as the admin API lists them.
func (w *windowSite) users() string {
	_, out := w.Admin("GET", "/smsgate/users?realm=localhost", "")
	return out
}

// secondPhone is the ID of the first user's second phone.
func (w *windowSite) secondPhone() string {
	return regexp.MustCompile(`"id":"([^"]+)","name":"Phone 2"`).FindStringSubmatch(w.users())[1]
}

// signIn signs user in with the code texted to her phone.
func (w *windowSite) signIn(t *testing.T, user string) *sitetest.Client {
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {user}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {w.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	return c
}

// hold posts form to path as c and parks it where the test's hold rule
// says. No known-browser cookie, whose check reads her revocation too,
// before the page's.
func (w *windowSite) hold(t *testing.T, c *sitetest.Client, path string, form url.Values) *sitetest.Parked {
	c.SetCookie(pages.KnownCookie, "none")
	form.Set("csrf", c.CSRF("/.smsgate/devices"))
	return sitetest.Park(t, w.dir, func() *sitetest.Response {
		return c.PostWith(path, form, map[string]string{"Origin": c.Base()})
	})
}

// revoke writes user's revocation as of at straight into the store, as
// another instance's would land, while a request is parked.
func (w *windowSite) revoke(t *testing.T, user string, at time.Time) {
	raw, _ := json.Marshal(at.UTC())
	sitetest.PutWhileParked(t, w.dir, endkeys.User("localhost", user), raw)
}

// revokedWhileHeld posts form to path as c, parked where the test's hold
// rule says, checks that the users are as before while it is parked (the
// hold comes before the change's write; where says where it is), writes
// user's revocation as of at, and lets it go: it answers the answer and
// the users from before.
func (w *windowSite) revokedWhileHeld(t *testing.T, c *sitetest.Client, path string, form url.Values, where, user string, at time.Time) (*sitetest.Response, string) {
	t.Helper()
	before := w.users()
	held := w.hold(t, c, path, form)
	if where != "" {
		if parked := w.users(); parked != before {
			t.Fatalf("held %s:\n%s", where, parked)
		}
	}
	w.revoke(t, user, at)
	return held.Release(t), before
}
