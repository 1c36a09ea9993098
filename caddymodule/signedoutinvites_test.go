package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASignedOutSessionsInvitesStayReachable (logout39, close17 Left 1):
// a thief holding mallory's account mints at the console an invite for
// mal, then signs out; mallory, in her own browser, minted one for ned.
// The sign-out ends neither (an honest one must not end the invites she
// handed to someone else), but the thief's session stays on mallory's
// console page, said signed out with 1 invite link still open, and
// alice's end of it, at the console or by the admin API, ends mal's
// link, not ned's, audited once (admin_sessions_end, invites_ended 1,
// signed_out). On Badger and Redis, through a real Caddy. (Before, the
// console no longer listed the session, the end of its SID answered "no
// such session", and mal's link lived until it expired.)
func TestASignedOutSessionsInvitesStayReachable(t *testing.T) {
	sitetest.Parallel(t)
	for _, by := range []string{"console", "admin API"} {
		t.Run(by, func(t *testing.T) {
			sitetest.Parallel(t)
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
				s := twoAdminsSite(t, storeLine, "")
				thief, alice, malToken, nedToken := mintedByThiefAndOwner(t, s)
				sid := sessionID(t, thief.Cookie("smsgate_session"))

				tok := sitetest.CSRFField.FindStringSubmatch(thief.Get("/.smsgate/logout").Text)[1]
				sitetest.Expect(t, thief.Post("/.smsgate/logout", url.Values{"csrf": {tok}}), http.StatusOK, "")
				if inviteEnded(t, s, "mal", malToken) {
					t.Fatalf("mal's link ended with the sign-out of the session that minted it")
				}

				const page = "/.smsgate/admin/user?name=mallory"
				got := alice.Get(page)
				row := fmt.Sprintf(`<input type="hidden" name="action" value="end-signed-out"><input type="hidden" name="session" value="%s">`, sid)
				if !strings.Contains(got.Text, "Signed out; 1 invite link minted in it is still open") || !strings.Contains(got.Text, row) {
					t.Fatalf("mallory's console page does not list the signed-out session with its open invite:\n%s", got.Text)
				}
				if by == "console" {
					form := url.Values{"action": {"end-signed-out"}, "session": {sid}, "csrf": {sitetest.CSRFField.FindStringSubmatch(got.Text)[1]}}
					done := sitetest.ConsoleDone(t, alice.PostWith(page, form, map[string]string{"Origin": s.Base}), "end-signed-out")
					sitetest.ExpectBody(t, done, "The invite links minted in that signed-out session have ended")
					if strings.Contains(done.Text, row) {
						t.Errorf("the signed-out session still listed once its invites ended")
					}
				} else {
					st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"mallory","id":%q}`, sid))
					if st != http.StatusOK || !strings.Contains(out, `"invites_ended":"1"`) {
						t.Fatalf("the admin API's end of the signed-out session: %d %s", st, out)
					}
					if st, out := s.Admin("GET", "/smsgate/sessions/signed-out?realm=localhost&user=mallory", ""); st != http.StatusOK || strings.TrimSpace(out) != "[]" {
						t.Errorf("the signed-out sessions once their invites ended: %d %s", st, out)
					}
				}
				expectMalsEnded(t, s, malToken, nedToken, "admin_sessions_end", "in the session signed out", "in mallory's other session")
				if ends := s.LogEntries("admin_sessions_end"); len(ends) == 1 && ends[0]["signed_out"] != true {
					t.Errorf("the audit of the end does not say the session had signed out: %v", ends[0])
				}
			})
		})
	}
}
