package caddymodule_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// failingMinter is the admin whose invites' end fails once.
const failingMinter = "mallorie"

// TestAnEndedSessionWhoseInvitesFailedEndsThemWhenAskedAgain (ends38): a
// thief holding mallorie's account mints at the console an invite for
// mal; mallorie, in another browser, one for ned. alice ends the thief's
// session at the console, and the store goes away as it ends mallorie's
// invites (once it read her index): the thief is signed out, the console answers 503 ("try again
// once it is back"), nothing is audited. alice asks again: the end is
// done, mal's link is ended by an administrator, ned's still works, and
// one admin_sessions_end names invites_ended 1. On Badger and Redis,
// through a real Caddy. (Before, the retry answered 404 "no such session",
// and mal's link enrolled the thief's phone.)
func TestAnEndedSessionWhoseInvitesFailedEndsThemWhenAskedAgain(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		held := strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1)
		s := textSite(t, held, []string{"alice", failingMinter, "mal", "ned"}, "\t\tadmins alice "+failingMinter+"\n"+limitsOff)
		addUser(t, s, "alice", "+14155552670")
		addUser(t, s, failingMinter, "+14155552671")
		thief, owner, alice := sitetest.NewClient(t, failingMinter), sitetest.NewClient(t, failingMinter), sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		s.Advance(time.Minute) // past the first code's cooldown
		signIn(t, s, owner)
		signIn(t, s, alice)
		malToken := mintAt(t, s, thief, "mal")
		nedToken := mintAt(t, s, owner, "ned")

		page := "/.smsgate/admin/user?name=" + failingMinter
		sid, csrf := sessionID(t, thief.Cookie("smsgate_session")), sitetest.CSRFField.FindStringSubmatch(alice.Get(page).Text)[1]
		end := func() *sitetest.Response {
			form := url.Values{"action": {"end"}, "session": {sid}, "csrf": {csrf}}
			return alice.PostWith(page, form, map[string]string{"Origin": s.Base})
		}
		// The end is held once it has read mallorie's index of invites,
		// and the store goes away meanwhile: its withdrawal of mal's
		// fails, after the session ended.
		sitetest.AddHold(t, dir, sitetest.Hold{Of: failingMinter, Op: "read", Key: "invites-minted/localhost/" + failingMinter})
		parked := sitetest.Park(t, dir, end)
		if err := os.WriteFile(filepath.Join(dir, "down"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		res := parked.Release(t)
		if err := os.Remove(filepath.Join(dir, "down")); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("an end whose invites failed: %d, want 503\n%s", res.StatusCode, res.Text)
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief's session outlived its end")
		}
		if ends := s.LogEntries("admin_sessions_end"); len(ends) != 0 {
			t.Errorf("an end that failed audited %v", ends)
		}
		sitetest.ConsoleDone(t, end(), "end")
		expectMalsEnded(t, s, malToken, nedToken, "admin_sessions_end", "in the session ended", "in "+failingMinter+"'s other session")
	})
}
