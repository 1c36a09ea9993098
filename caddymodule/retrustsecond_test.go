package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAReTrustInTheSameSecondRefusesTheEarlierCookie (review38 F2):
// alice's browser, trusted with a code 0.1 s into a second, signs her in
// with a code again 0.6 s later (a step-up) and asks to be trusted again:
// the trust cookie it held before, and a copy of it, sign nobody in;
// the new one does. On Badger and Redis, through a real Caddy. (Before,
// the earlier cookie was refused only if issued in an earlier second than
// the re-trust's sign-in: it signed in.) On a stopped clock (StopClock):
// the two sign-ins are 0.6 s apart in one second by construction.
func TestAReTrustInTheSameSecondRefusesTheEarlierCookie(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n"+limitsOff)
		addUser(t, s, "alice", "+14155552671")
		alice := sitetest.NewClient(t, "alice")
		trusted := func() string {
			t.Helper()
			tok := codeSent(t, alice)
			sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
			return alice.Cookie("smsgate_trust")
		}
		// The gates' clock stopped: each sign-in happens at the instant the
		// test put it at, however long its requests take on a loaded
		// machine (before, on the running clock, both had to fit in the
		// 0.3 s left of the second, and failed at load 23-47).
		s.StopClock()
		now := s.Now()
		s.Advance(now.Truncate(time.Second).Add(time.Second + 100*time.Millisecond).Sub(now))
		second := s.Now().Unix()
		earlier := trusted()
		s.Advance(600 * time.Millisecond)
		again := trusted()
		if s.Now().Unix() != second || earlier == "" || again == earlier {
			t.Fatalf("not two trust cookies in one second (%d, %d)", second, s.Now().Unix())
		}
		if signsInByTrust(t, "alice", earlier) {
			t.Error("the trust cookie the browser held before the re-trust in its second still signs in")
		}
		if !signsInByTrust(t, "alice", again) {
			t.Error("the re-trust's cookie signs nobody in")
		}
	})
}
