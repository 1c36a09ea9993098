package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestNoTypedNameSpendsAKnownBrowsersBudget: alice's browser signed in
// before, so it has send windows of its own, which strangers naming alice
// cannot spend. Strangers type "alice/known" at the login form: a name
// nobody has (each gets a decoy), but its per-user window was kept under
// the very key of alice's known browsers' ("<realm>/login alice" and
// "/known", joined as text). Their decoys must not count against alice:
// her own browser still gets its code. (Before: 429, "too many codes for
// this account", after three strangers' decoys with limit user 3.)
func TestNoTypedNameSpendsAKnownBrowsersBudget(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store badger {DIR}
		provider log
		limit user 3 1h
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	if st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552671"}`); st != http.StatusOK {
		t.Fatalf("adding alice: %d %s", st, out)
	}
	login := func(c *sitetest.Client, name string) (*sitetest.Response, string) {
		t.Helper()
		s.Advance(time.Minute) // past the last send's cooldown
		tok := c.CSRF("/.smsgate/login")
		return c.Post("/.smsgate/login", url.Values{"username": {name}, "csrf": {tok}}), tok
	}
	alice := sitetest.NewClient(t, "").From("198.51.100.7")
	res, tok := login(alice, "alice")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	for i := range 3 {
		stranger := sitetest.NewClient(t, "").From(fmt.Sprintf("203.0.113.%d", i+1))
		res, _ := login(stranger, "alice/known")
		sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	}
	alice.SetCookie("smsgate_session", "") // her session over: a code again, in her known browser
	res, _ = login(alice, "alice")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice's known browser, after strangers typed \"alice/known\": %d, want her code sent (303)\n%s", res.StatusCode, res.Text)
	}
}
