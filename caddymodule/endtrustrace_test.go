package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASignInByATrustTheAdminEndsMeanwhileEndsWithIt: a thief's trusted
// browser, its session cookie dropped, signs in again by its trust; the
// sign-in found the trust (held right after it read the user's trusts)
// when the admin's end of the thief's first session, which ends that trust
// and its sessions, is made and answered. The sign-in then goes on: it
// must not leave the browser a session (through a real Caddy, on Badger
// and Redis). Before, it did, and the end had not seen it: Hello, alice!
// after the end was answered, for the session's lifetime. The trust's end
// (revoked-trust/) refuses that session now, here, so the test checks the
// sign-in hands out none, which only its re-read of the trust ensures.
func TestASignInByATrustTheAdminEndsMeanwhileEndsWithIt(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := rememberingHoldSite(t, storeLine, dir)
		thief := sitetest.NewClient(t, "alice")
		tok := codeSent(t, thief)
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		first := sessionID(t, thief.Cookie("smsgate_session"))
		thief.SetCookie("smsgate_session", "")

		sitetest.AddHold(t, dir, sitetest.Hold{Of: "alice", Op: "read", Key: "trusted/*/alice"}) // right after it read her trusts
		signIn := sitetest.Park(t, dir, func() *sitetest.Response { return thief.Get("/.smsgate/login?rd=%2F") })
		if st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, first)); st != http.StatusOK {
			t.Fatalf("ending the thief's first session: %d %s", st, out)
		}
		res := signIn.Release(t)
		// Its session is withdrawn, never handed out: only the trust's
		// end (revoked-trust/) would refuse it, which a gate of the
		// release before does not read (a rolling upgrade), and no end of
		// its own names it. Without the trust read again once listed
		// (stillTrusted), the browser held it, though "/" refused it.
		if tok := thief.Cookie("smsgate_session"); tok != "" {
			t.Fatalf("the sign-in by the trust the admin ended meanwhile handed the browser a session (%d %s)", res.StatusCode, res.Header.Get("Location"))
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the browser signed in by the trust the admin ended meanwhile, once the end was answered: %s", res.Text)
		}
		if _, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=alice", ""); strings.TrimSpace(out) != "[]" {
			t.Errorf("alice's sessions after the end: %s", out)
		}
	})
}

// rememberingHoldSite is holdSite with trusted browsers (remember 30d).
func rememberingHoldSite(t *testing.T, storeLine, dir string) *sitetest.Site {
	t.Helper()
	s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{"alice"}, "\t\tremember 30d\n")
	addUser(t, s, "alice", "+14155552671")
	return s
}
