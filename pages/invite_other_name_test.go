package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnInviteEnrollsOnlyItsOwnUser: with identity none and enrollment
// closed, mallory holds an invite of her own. She accepts it, then types
// "alice" at the login form (alice lost her phone and the admin reset
// her: she has no device until her own invite comes). The invite must let
// mallory enroll herself, never alice: no enrollment step for alice, no
// phone of mallory's enrolled as alice's, no session. (Before, the flow's
// invite followed whatever name the login form took last: mallory enrolled
// her phone as alice and was signed in as her — as any name without a
// device, the console's admin not yet enrolled among them.) Typing her own
// name again, mallory's invite still stands.
func TestAnInviteEnrollsOnlyItsOwnUser(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	admin := func(path, body string) string {
		t.Helper()
		st, out := s.Admin("POST", path, body)
		if st != http.StatusOK {
			t.Fatalf("%s: %d %s", path, st, out)
		}
		return out
	}
	admin("/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552671"}`)
	admin("/smsgate/reset", `{"realm":"localhost","user":"alice"}`)
	s.Advance(time.Second) // a session signed in after the reset is not ended by it
	out := admin("/smsgate/invites", `{"realm":"localhost","user":"mallory","ttl":"1h"}`)
	token := out[strings.Index(out, "token=")+len("token=") : strings.Index(out, `","url"`)]

	mallory := sitetest.NewClient(t, "")
	tok := mallory.CSRF("/.smsgate/invite?token=" + token)
	sitetest.Expect(t, mallory.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")

	// alice's name at the login form: her verify step (a decoy's), not
	// an enrollment.
	sitetest.Expect(t, mallory.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sent := s.Sent()
	res := mallory.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550123"}, "csrf": {tok}})
	if s.Sent() != sent {
		res = mallory.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	}
	if _, users := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(users, `"user":"alice"`) {
		t.Errorf("mallory's invite enrolled a phone as alice (%d): %s", res.StatusCode, users)
	}
	if res := mallory.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("mallory signed in by her invite as another user: %s", res.Text)
	}

	// Her own name again: her invite still lets her enroll.
	sitetest.Expect(t, mallory.Post("/.smsgate/login", url.Values{"username": {"mallory"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, mallory.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550123"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	mallory.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	if res := mallory.Get("/"); res.StatusCode != http.StatusOK || res.Text != "Hello, mallory!" {
		t.Fatalf("mallory, by her own invite: %d %s", res.StatusCode, res.Text)
	}
}
