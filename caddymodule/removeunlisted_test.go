package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// TestRemovingALostPhoneEndsItsSessionOffHerList: a thief signs in with
// alice's stolen phone's code (no trust asked); alice, with her other
// phone and a trusted browser, signs in more than her list of
// session.MaxListed keeps (a browser of hers that lost its session cookie
// each time, or a script), pushing the thief's session off the list. She
// (devices page) or the admin (admin API, as the stopped-Caddy CLI does)
// removes the stolen phone: the thief's session is refused though no list
// names it any more (the phone's end, read by every check of a session
// that names it), there and at a gate started after (the store's record);
// her sessions stay. On Badger and Redis, through a real Caddy. (Before, it answered "Hello, alice!" until it expired: only
// sessions found in her list or by a trust ended.)
func TestRemovingALostPhoneEndsItsSessionOffHerList(t *testing.T) {
	sitetest.Parallel(t)
	for _, by := range []string{"devices page", "admin"} {
		t.Run(by, func(t *testing.T) {
			sitetest.Parallel(t)
			onEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
				s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n"+limitsOff)
				lost := addUser(t, s, "alice", "+14155552671")
				kept := addUser(t, s, "alice", "+14155552672")
				signInWith := func(c *sitetest.Client, device string, remember bool) {
					t.Helper()
					s.Advance(time.Minute) // past the last send's cooldown
					sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
					tok := c.CSRF("/.smsgate/verify")
					sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {device}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
					form := url.Values{"code": {s.LastCode()}, "csrf": {tok}}
					if remember {
						form.Set("remember", "1")
					}
					sitetest.Expect(t, c.Post("/.smsgate/verify", form), http.StatusSeeOther, "/")
				}
				thief, trusted, alice := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
				signInWith(thief, lost, false)
				signInWith(trusted, kept, true)
				for range session.MaxListed {
					s.Advance(time.Second)
					trusted.SetCookie("smsgate_session", "")
					sitetest.Expect(t, trusted.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
				}
				signInWith(alice, kept, false)
				sitetest.ExpectBody(t, thief.Get("/"), "Hello, alice!")
				code, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=alice", "")
				var listed []session.Info
				if err := json.Unmarshal([]byte(out), &listed); code != http.StatusOK || err != nil {
					t.Fatalf("her sessions: %d %s", code, out)
				}
				for _, l := range listed {
					if l.Where.Device != nil && *l.Where.Device == lost {
						t.Fatal("the thief's session is still on her list")
					}
				}

				if by == "admin" {
					if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, lost)); st != http.StatusOK {
						t.Fatalf("removing the phone: %d %s", st, out)
					}
				} else {
					tok := alice.CSRF("/.smsgate/devices")
					sitetest.Expect(t, alice.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")
				}
				if res := thief.Get("/"); res.StatusCode == http.StatusOK {
					t.Fatalf("the thief's session, off her list, outlived the removal of the phone that earned it: %s", res.Text)
				}
				// A gate that starts now knows only the store.
				textSite(t, keep(s), []string{"alice"}, "\t\tremember 29d\n"+limitsOff)
				for _, c := range []*sitetest.Client{thief, alice, trusted} {
					c.HTTP.CloseIdleConnections() // the old config's server closed them
				}
				if res := thief.Get("/"); res.StatusCode == http.StatusOK {
					t.Fatalf("the thief's session, off her list, is live at a gate started after the removal: %s", res.Text)
				}
				sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
				sitetest.ExpectBody(t, trusted.Get("/"), "Hello, alice!")
			})
		})
	}
}
