package caddymodule_test

import (
	"encoding/json"
	"net/http"
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
	eachRemoval(t, limitsOff, func(t *testing.T, by string, s *sitetest.Site, lost, kept string, keep func(*sitetest.Site) string) {
		thief, trusted, alice := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signInWith(t, s, thief, lost, false)
		signInWith(t, s, trusted, kept, true)
		for range session.MaxListed {
			s.Advance(time.Second)
			trusted.SetCookie("smsgate_session", "")
			sitetest.Expect(t, trusted.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
		}
		signInWith(t, s, alice, kept, false)
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

		removePhone(t, s, by, alice, lost)
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
}
