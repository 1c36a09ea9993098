package pages_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAResetEndsTheBrowsersItKnew: a thief with alice's phone signs in
// as her once, so the gate knows the thief's browser as alice's (the
// known-browser cookie, 400 days). The admin resets alice and gives her a
// new phone. Strangers then fill alice's window of checked guesses; the
// thief's browser must be one of them: refused with the window full, not
// given the owner's own window (where its codes would still be checked:
// twice the guesses the window promises). (Before, a reset, a revoke or
// a sign-out everywhere left every browser that ever signed in as the user
// known as the owner's, for 400 days.)
func TestAResetEndsTheBrowsersItKnew(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store badger {DIR}
		provider log
		limit guesses 5 1d
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	admin := func(path, body string) {
		t.Helper()
		if st, out := s.Admin("POST", path, body); st != http.StatusOK {
			t.Fatalf("%s: %d %s", path, st, out)
		}
	}
	admin("/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552671"}`)
	login := func(c *sitetest.Client) string {
		t.Helper()
		s.Advance(31 * time.Second) // past the login cooldown
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		return tok
	}
	guess := func(c *sitetest.Client, tok string) int {
		return c.Post("/.smsgate/verify", url.Values{"code": {"AAAAA-AAAAA"}, "csrf": {tok}}).StatusCode
	}

	thief := sitetest.NewClient(t, "").From("192.0.2.66")
	tok := login(thief)
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	s.Advance(time.Second)
	admin("/smsgate/reset", `{"realm":"localhost","user":"alice"}`)
	s.Advance(time.Second)
	admin("/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552672"}`)

	// Strangers fill alice's window: 5 guesses checked, then refused.
	m := sitetest.NewClient(t, "").From("203.0.113.1")
	mtok := login(m)
	for i := range 5 {
		if st := guess(m, mtok); st != http.StatusBadRequest {
			t.Fatalf("stranger's guess %d: %d", i, st)
		}
	}
	m = sitetest.NewClient(t, "").From("203.0.113.2")
	if st := guess(m, login(m)); st != http.StatusTooManyRequests {
		t.Fatalf("a stranger's guess past the window: %d", st)
	}
	// The thief: refused as the strangers are (at the login, whose sends
	// the full window stops too, or at the code), never checked.
	s.Advance(31 * time.Second)
	ttok := thief.CSRF("/.smsgate/login")
	res := thief.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {ttok}})
	if res.StatusCode == http.StatusSeeOther {
		res = thief.Post("/.smsgate/verify", url.Values{"code": {"AAAAA-AAAAA"}, "csrf": {ttok}})
	}
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after the reset, the thief's browser was still alice's own: %d, past the strangers' full window (its guess checked)", res.StatusCode)
	}
}
