package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// TestAnAdminsEndOfTheOldSessionRacingItsStepUpEndsWhatItBecame (review39
// R1): mallory (a thief holding her account, say) mints at the console an
// invite for mal, then proves herself again in the same browser (a
// step-up: her session there is replaced, the invite moves to the new
// one). Her step-up is held just after that move, and alice ends the old
// session by the admin API then, its SID as her list showed it: the end
// answers "ended", and once the step-up goes on, the browser is signed
// out (its new session ended with the old one) and mal's link is ended by
// an administrator. On Badger and Redis, through a real Caddy. (Before,
// the end ended the old session alone: the new one and the invite lived.)
func TestAnAdminsEndOfTheOldSessionRacingItsStepUpEndsWhatItBecame(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		held := strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1)
		s := twoAdminsSite(t, held, "")
		mallory := sitetest.NewClient(t, "mallory")
		signIn(t, s, mallory)
		malToken := mintAt(t, s, mallory, "mal")
		oldSID := sessionID(t, mallory.Cookie(pages.SessionCookie))

		s.Advance(time.Hour)
		sitetest.Expect(t, mallory.Get("/.smsgate/login?rd=%2F.smsgate%2Fdevices"), http.StatusSeeOther, "/.smsgate/verify")
		tok := mallory.CSRF("/.smsgate/verify")
		sitetest.Expect(t, mallory.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		form := url.Values{"code": {s.LastCode()}, "csrf": {tok}}
		sitetest.AddHold(t, dir, sitetest.Hold{Of: "mallory", Op: "write", Key: "invites-minted/localhost/mallory"})
		parked := sitetest.Park(t, dir, func() *sitetest.Response { return mallory.Post("/.smsgate/verify", form) })
		st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"mallory","id":%q}`, oldSID))
		if st != http.StatusOK || !strings.Contains(out, oldSID) {
			t.Fatalf("the admin's end of the old session: %d %s", st, out)
		}
		sitetest.Expect(t, parked.Release(t), http.StatusSeeOther, "/.smsgate/devices")
		if sessionID(t, mallory.Cookie(pages.SessionCookie)) == oldSID {
			t.Fatal("the step-up set no new session")
		}
		if res := mallory.Get("/"); res.StatusCode == http.StatusOK {
			t.Error("the session the step-up made lives after the admin ended the one it replaced")
		}
		if !inviteEnded(t, s, "mal", malToken) {
			t.Error("mal's link, minted in the session the admin ended, still works")
		}
	})
}
