package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAResetEndsTheUsersInvites: an invite link leaks (a text to the phone
// that is then lost, a forwarded mail), and the admin resets the user (the
// admin API) to shut every way in. Whether the holder of the link opens it
// after the reset, accepted it before, or had even had its code texted to
// their own phone before, no phone of theirs may be enrolled for the user
// after the reset, and nobody is signed in. An invite minted after the
// reset still works. On Badger and on Redis, through a real Caddy.
// (Before, a reset left every invite and every accepted one standing: the
// link's holder enrolled their phone as the reset user.)
func TestAResetEndsTheUsersInvites(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := inviteOnlySite(t, storeLine, "")
		invite := func(user string) string {
			t.Helper()
			st, body := s.Admin("POST", "/smsgate/invites", fmt.Sprintf(`{"realm":"localhost","user":%q,"ttl":"1h"}`, user))
			if st != http.StatusOK {
				t.Fatalf("invite: %d %s", st, body)
			}
			var inv struct{ Path string }
			_ = json.Unmarshal([]byte(body), &inv)
			return strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
		}
		reset := func(user string) {
			t.Helper()
			s.Advance(time.Second)
			if st, out := s.Admin("POST", "/smsgate/reset", fmt.Sprintf(`{"realm":"localhost","user":%q}`, user)); st != http.StatusOK {
				t.Fatalf("reset: %d %s", st, out)
			}
			s.Advance(time.Second)
		}
		// enrolled reports whether the holder's phone became user's.
		enrolled := func(user string, c *sitetest.Client, tok, code string) {
			t.Helper()
			if code != "" {
				c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
			}
			_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
			if strings.Contains(out, fmt.Sprintf(`"user":%q`, user)) {
				t.Errorf("%s: a phone enrolled through an invite from before the reset: %s", user, out)
			}
			if res := c.Get("/"); res.StatusCode == http.StatusOK {
				t.Errorf("%s: signed in through an invite from before the reset: %s", user, res.Text)
			}
		}
		holder := func() (*sitetest.Client, string) {
			c := sitetest.NewClient(t, "")
			return c, c.CSRF("/.smsgate/login")
		}
		// texted is the code a send since sent texted, if it did.
		texted := func(sent int) string {
			if s.Sent() == sent {
				return ""
			}
			return s.LastCode()
		}

		// Opened after the reset.
		token := invite("ann")
		reset("ann")
		c, tok := holder()
		sent := s.Sent()
		c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}})
		c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}})
		enrolled("ann", c, tok, texted(sent))

		// Accepted before the reset, the phone typed after it.
		token = invite("ben")
		c, tok = holder()
		sitetest.Expect(t, c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
		reset("ben")
		sent = s.Sent()
		c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {tok}})
		enrolled("ben", c, tok, texted(sent))

		// The code texted before the reset, typed after it.
		token = invite("cat")
		c, tok = holder()
		sitetest.Expect(t, c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
		sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552673"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()
		reset("cat")
		enrolled("cat", c, tok, code)

		// An invite the admin mints after the reset works.
		s.Advance(time.Second)
		token = invite("ann")
		c, tok = holder()
		sitetest.Expect(t, c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
		sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552674"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
		sitetest.ExpectBody(t, c.Get("/"), "Hello, ann!")
	})
}

// TestAnInviteEnrollsOnlyItsUser: enrollment is closed behind basic_auth;
// alice has an invite of her own and knows the password of ops, a shared
// account with no phone (the very case closed enrollment is for). She
// accepts her invite, then signs in to basic_auth as ops: her flow, which
// says "invited", must not let her enroll her phone for ops. (Before, it
// did: an invite for one user was a ticket to enroll any user whose
// password its holder knew.)
func TestAnInviteEnrollsOnlyItsUser(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice", "ops"}, "")
	st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"alice","ttl":"1h"}`)
	if st != http.StatusOK {
		t.Fatalf("invite: %d %s", st, body)
	}
	var inv struct{ Path string }
	_ = json.Unmarshal([]byte(body), &inv)
	c := sitetest.NewClient(t, "alice")
	tok := c.CSRF(inv.Path)
	sitetest.Expect(t, c.Post("/.smsgate/invite", url.Values{"token": {strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")

	c.User = "ops"
	sent := s.Sent()
	res := c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}})
	if s.Sent() != sent {
		c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	}
	_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	if strings.Contains(out, `"user":"ops"`) {
		t.Fatalf("alice's invite enrolled her phone for ops (enroll: %d %s): %s", res.StatusCode, res.Header.Get("Location"), out)
	}
	if res := c.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("signed in as ops through alice's invite: %s", res.Text)
	}
	// Alice, her own self again, enrolls.
	c.User = "alice"
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
}

// TestHerOwnSignOutEverywhereEndsHerInvite, on Badger and a real Redis:
// carol (a phone the admin added, at a login form: one the config gave
// would get no invite, invite36) has an invite the admin minted for her,
// unopened. Her own "Sign out everywhere" on the devices
// page ends it, as the admin's revoke does (session.RevokeUser ends the
// invites minted before it): its link is refused after (400). One minted
// after the sign-out is taken (a code to her phone).
func TestHerOwnSignOutEverywhereEndsHerInvite(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := inviteOnlySite(t, storeLine, "")
		if st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"carol","phone":"+14155552671"}`); st != http.StatusOK {
			t.Fatalf("carol's phone: %d %s", st, out)
		}
		invite := func() string {
			t.Helper()
			st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"carol","ttl":"1h"}`)
			if st != http.StatusOK {
				t.Fatalf("invite: %d %s", st, body)
			}
			var inv struct{ Path string }
			_ = json.Unmarshal([]byte(body), &inv)
			return strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
		}
		accept := func(token string) *sitetest.Response {
			t.Helper()
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			return c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}})
		}
		token := invite()
		s.Advance(time.Second)
		carol := sitetest.NewClient(t, "")
		tok := carol.CSRF("/.smsgate/login")
		sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, carol.Get("/"), "Hello, carol!")
		devTok := carol.CSRF("/.smsgate/devices")
		if res := carol.Post("/.smsgate/devices", url.Values{"action": {"signout-all"}, "confirm": {"1"}, "csrf": {devTok}}); res.StatusCode >= 400 {
			t.Fatalf("sign out everywhere: %d %s", res.StatusCode, res.Text)
		}
		if res := carol.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("premise: carol signed out everywhere: %d %s", res.StatusCode, res.Text)
		}
		s.Advance(time.Second)
		if res := accept(token); res.StatusCode != http.StatusBadRequest {
			t.Errorf("the invite minted before her sign-out everywhere: %d to %q, want 400 (ended)", res.StatusCode, res.Header.Get("Location"))
		}
		s.Advance(time.Second)
		sitetest.Expect(t, accept(invite()), http.StatusSeeOther, "/.smsgate/verify") // one minted since: a code to her phone
	})
}

// inviteOnlySite is a login form on storeLine's store whose enrollment is
// closed: only an admin's invite lets a user in (extra: more options).
func inviteOnlySite(t *testing.T, storeLine, extra string) *sitetest.Site {
	return sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		realm localhost
		`+storeLine+`
		provider log
`+extra+`	}
	respond "Hello, {http.auth.user.id}!"
}`)
}
