package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheAdminsPhoneIsBoundInVerifyOnlyMode: in verify-only mode a number
// is one user's (the login form finds the user by it). The admin API gives
// alice a number: typed at the login form, it names her; given to bob as
// well, it is refused (409, naming alice, whom the admin may know holds it),
// and still names alice. On Badger and Redis, through a real Caddy.
// (Before, the admin's phone bound nothing: the number named nobody at the
// login form, a decoy's answer, and bob was given it too.)
func TestTheAdminsPhoneIsBoundInVerifyOnlyMode(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		verify_only "a phone-hashing key of 32 bytes or more"
		`+storeLine+`
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		const number = "+447400123456"
		addUser(t, s, "alice", number)
		st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"bob","phone":"`+number+`"}`)
		if st != http.StatusConflict || !strings.Contains(out, "the number is alice's") {
			t.Errorf("alice's number given to bob too: %d %s; want 409 naming alice", st, out)
		}
		if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, `"bob"`) {
			t.Errorf("bob has alice's number: %s", out)
		}
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		sent := s.Sent()
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {number}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		if s.Sent() != sent+1 {
			t.Fatalf("the number the admin gave alice, typed at the login form, named nobody: %d texts, want 1", s.Sent()-sent)
		}
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, c.Get("/"), "Hello, alice!")
	})
}
