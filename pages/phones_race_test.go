package pages_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTwoPhoneAddsAtOnceAddOnePhone: through a real Caddy, carol, signed
// in on two browsers, adds one new number on both (a code to it from
// each), and types both codes at once: one check is held once it began
// (its session checked, its code not yet taken) until the other has added
// the phone and been answered, on Badger and on Redis. Her phone is told
// of the new one once, and it stays. Before, both told her phone ("a new
// phone … was added", twice); and when her sessions ended while one was
// held (the admin's revoke), the held one, which found the phone added
// and added nothing, undid the adding: the phone the other had added, and
// been answered for, was removed. Only the check that added the phone
// notifies and may undo it; the other, its session ended, is refused all
// the same (no new session).
func TestTwoPhoneAddsAtOnceAddOnePhone(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		for _, revoked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/revoked=%v", kind, revoked), func(t *testing.T) {
				sitetest.Parallel(t)
				twoPhoneAdds(t, kind, revoked)
			})
		}
	}
}

// twoPhoneAdds is TestTwoPhoneAddsAtOnceAddOnePhone on the store kind,
// carol's sessions ended by the admin while one is held if revoked.
func twoPhoneAdds(t *testing.T, kind string, revoked bool) {
	s, dir := heldSite(t, kind)
	adding := func(c *sitetest.Client) func() *sitetest.Response {
		s.Advance(time.Minute) // past the waits of the last code
		sitetest.SignIn(t, s, c)
		tok := c.CSRF("/.smsgate/devices")
		s.Advance(time.Minute)
		add := url.Values{"action": {"add"}, "phone": {"+447400123456"}, "name": {"Work"}, "csrf": {tok}}
		sitetest.Expect(t, c.Post("/.smsgate/devices", add), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()
		return func() *sitetest.Response {
			return c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		}
	}
	first := adding(sitetest.NewClient(t, ""))
	second := adding(sitetest.NewClient(t, "").OnLoopback(77)) // heldAddress
	// Held once its code's check read its address's lockout.
	for _, key := range []string{"lock/*/*/" + heldAddress, "lock/*/*/" + heldAddress + "/known-browser"} {
		sitetest.AddHold(t, dir, sitetest.Hold{Of: heldAddress, Op: "read", Key: key})
	}
	held := sitetest.Park(t, dir, second)
	sitetest.Expect(t, first(), http.StatusSeeOther, "/.smsgate/devices")
	if revoked {
		if st, out := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"carol"}`); st != http.StatusOK {
			t.Fatalf("revoke: %d %s", st, out)
		}
	}
	res := held.Release(t)
	_, users := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	var list []struct{ Devices []struct{ ID string } }
	if err := json.Unmarshal([]byte(users), &list); err != nil || len(list) != 1 || len(list[0].Devices) != 1 {
		t.Fatalf("two checks of codes for one new number at once: held, %d %s; carol's devices, want the new phone: %s", res.StatusCode, res.Header.Get("Location"), users)
	}
	session := slices.ContainsFunc(res.Cookies(), func(c *http.Cookie) bool { return c.Name == "smsgate_session" && c.Value != "" })
	if want := !revoked; (res.StatusCode == http.StatusSeeOther) != want || session != want {
		t.Errorf("the held check, its session ended: %v: %d %s, a session: %v", revoked, res.StatusCode, res.Header.Get("Location"), session)
	}
	if added := noticesOf(s, "was added"); added != 1 {
		t.Errorf("two checks of codes for one new number at once: %d notices of it, want 1: %q", added, s.Notices())
	}
}
