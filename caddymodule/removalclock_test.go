package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// TestARemovalEndsTheLostPhonesSessionWhateverTheClocks (clock32 1),
// through a real Caddy on Badger and Redis: at a gate 20 s ahead (within
// the 30 s the tokens tolerate), a thief signs in as alice with her phone;
// she signs in right after with her other phone, trusting her browser,
// and 20 times more by that trust, which pushes the thief's session off
// her list. With the gate's clock put back on time, the admin removes
// the lost phone. Before, its end ("every session it earned until now",
// by the clock on time) missed the thief's session, signed "later", and
// no list held it to end by its ID: 200 Hello, alice!. Now the removal
// moves its end on to the newest session pushed off her list (at most
// 30 s ahead of its clock): the thief's ends; hers, on the other phone,
// stay, the one pushed off too. (session's
// TestARemovalEndsTheDevicesSessionsWhateverTheClocks races the removal
// with a sign-in on the phone at a gate ahead.)
func TestARemovalEndsTheLostPhonesSessionWhateverTheClocks(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n")
		lost := addUser(t, s, "alice", "+14155552671")
		other := addUser(t, s, "alice", "+14155552672")
		s.Advance(20 * time.Second) // the gate ahead
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief) // her default phone, the lost one
		alice := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		tok := alice.CSRF("/.smsgate/verify")
		sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {other}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		hersFirst := sitetest.NewClient(t, "alice")
		hersFirst.SetCookie("smsgate_session", alice.Cookie("smsgate_session"))
		for range session.MaxListed {
			alice.SetCookie("smsgate_session", "")
			sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
		}
		s.Advance(-20 * time.Second) // on time
		if st, out := s.Admin("POST", "/smsgate/devices/remove", `{"realm":"localhost","user":"alice","id":"`+lost+`"}`); st != http.StatusOK {
			t.Fatalf("removing the lost phone: %d %s", st, out)
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Errorf("the thief's session, the lost phone's, signed a moment before its removal at a gate 20 s ahead: %q after it", res.Text)
		}
		sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
		sitetest.ExpectBody(t, hersFirst.Get("/"), "Hello, alice!")
	})
}
