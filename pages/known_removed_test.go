package pages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// TestARemovedPhonesUnlistedSessionEndsItsBrowsersKnownness: a thief
// signs in as alice with her lost phone's code (no trust); a browser of
// hers then signs in by a trust MaxListed times, pushing the thief's
// session off her list; the admin removes the lost phone. The removal
// ends the thief's session by the device's end (revoked-device/) alone,
// and his browser, whose known-browser cookie names that session, must be
// a stranger's again too, as a listed session's is: the cookie names the
// device (its dv claim), and session.StillKnown reads the device's end.
// (Before: the cookie named no device, the unlisted session had no end of
// its own, and the thief's browser stayed alice's known one, its guess
// checked past the strangers' full window.) Through a real Caddy.
func TestARemovedPhonesUnlistedSessionEndsItsBrowsersKnownness(t *testing.T) {
	sitetest.Parallel(t)
	knownEnded(t, func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)) {
		her := sitetest.NewClient(t, "").From("198.51.100.8")
		s.Advance(31 * time.Second) // past the login cooldown
		tok := her.CSRF("/.smsgate/login")
		sitetest.Expect(t, her.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, her.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		for range session.MaxListed {
			s.Advance(time.Second)
			her.SetCookie("smsgate_session", "") // signed in again by the trust
			sitetest.Expect(t, her.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
		}
		_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		var users []struct{ Devices []struct{ ID string } }
		if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 1 || len(users[0].Devices) != 1 {
			t.Fatalf("alice's phones: %v %s", err, out)
		}
		admin("/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552672"}`) // her new phone
		admin("/smsgate/devices/remove", `{"realm":"localhost","user":"alice","id":"`+users[0].Devices[0].ID+`"}`)
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatal("the thief's unlisted session outlived the phone's removal")
		}
	}, false, false)
}
