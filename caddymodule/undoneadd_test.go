package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// undoneAdder is the user of TestASessionAnUndoneAppSignedInEndsWithIt: the
// hold store (renewal_test.go's init) holds the first write of her device
// list once armed, and nothing else of hers.
const undoneAdder = "uma"

// TestASessionAnUndoneAppSignedInEndsWithIt: a thief signed in as uma
// (a stolen session, S1) adds an authenticator app whose secret he keeps;
// its confirmation is held once the app is written, before it reads its
// session again. The admin ends S1 (the console, the admin API), and the
// thief, in another browser, signs in with the app (S2: uma's password
// and the app's code). The confirmation goes on, finds S1 ended, and undoes
// the app: S2, which only the app earned, must end with it. On Badger and
// Redis, through a real Caddy. (Before, the undo took the app off her list
// and wrote no device end: S2 stayed signed in for the session's lifetime,
// by an app she never saw added, and the codes it made signed in.)
func TestASessionAnUndoneAppSignedInEndsWithIt(t *testing.T) {
	sitetest.Parallel(t)
	onEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{undoneAdder}, limitsOff)
		addUser(t, s, undoneAdder, "+14155552671")
		thief := sitetest.NewClient(t, undoneAdder)
		signIn(t, s, thief)
		first := sessionID(t, thief.Cookie("smsgate_session"))
		secret, tok := appSetup(t, thief)
		code := sitetest.AppCode(t, secret)
		confirm := sitetest.Park(t, dir, func() *sitetest.Response {
			return thief.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {code}, "csrf": {tok}})
		})
		if st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":%q,"id":%q}`, undoneAdder, first)); st != http.StatusOK {
			t.Fatalf("ending the thief's session: %d %s", st, out)
		}
		s.Advance(30 * time.Second) // the confirming code's step is used
		other := sitetest.NewClient(t, undoneAdder)
		sitetest.Expect(t, other.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		vt := other.CSRF("/.smsgate/verify")
		sitetest.Expect(t, other.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {vt}}), http.StatusSeeOther, "/")
		stolen := renew(t, other) // S2 replaces her recovery codes
		sitetest.Expect(t, confirm.Release(t), http.StatusSeeOther, "/.smsgate/login")
		if res := other.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("signed in by an app whose adding was undone (its session ended): %s", res.Text)
		}
		s.Advance(time.Minute)
		third := sitetest.NewClient(t, undoneAdder)
		sitetest.Expect(t, third.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		third.Post("/.smsgate/verify", url.Values{"code": {stolen[0]}, "csrf": {third.CSRF("/.smsgate/verify")}})
		if res := third.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("signed in by a recovery code the undone app's session made: %s", res.Text)
		}
		if n := noticesOf(s, withdrawnNotice); len(n) != 1 {
			t.Fatalf("the notices of the withdrawal: %q; want one", n)
		}
		log, err := os.ReadFile(s.LogFile)
		if err != nil {
			t.Fatal(err)
		}
		raw := strings.Join(strings.Fields(string(log)), "")
		for _, leak := range []string{stolen[0], strings.ReplaceAll(secret, " ", ""), "14155552671"} {
			if strings.Contains(raw, leak) {
				t.Fatalf("the log holds %s", leak)
			}
		}
	})
}
