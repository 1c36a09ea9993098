package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheAdminsRemovalWhileHerSessionsAddDevices (attack17): two gates of
// one realm on one store (Badger, and a real Redis), the admin API of
// their Caddy. Each run, a user signed in at each gate (from addresses of
// their own, 127.0.0.x) with her default phone; at the same moment the
// browser at gate a confirms a new authenticator app, the one at gate b
// the code for a new phone, and the admin removes the phone that signed
// both in. Whatever the order: the removal is answered and the phone
// stays removed; each add answered as done is on her list, and each
// refused (sent to sign in again) is not; the session at gate a is over,
// and the one at b lasts only where its new phone, kept, signed it in; her other
// phones are told of the removal once each, and of each kept add once; no
// answer is a 5xx; no whole number in the log.
func TestTheAdminsRemovalWhileHerSessionsAddDevices(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, a, b := twoGatesOn(t, storeLine)
		const runs = 6
		outcomes := map[string]int{}
		for i := range runs {
			user := fmt.Sprint("wren", i)
			ids := addPhones(t, s, user, 5000+10*i, 2)
			ca, tokA := signedInAt(t, s, sitetest.NewClient(t, "").OnLoopback(2+2*i), user, a)
			cb, tokB := signedInAt(t, s, sitetest.NewClient(t, "").OnLoopback(3+2*i), user, b)
			app := appSetupSecret.FindStringSubmatch(ca.PostURL(a("/.smsgate/devices"), url.Values{"action": {"app"}, "csrf": {tokA}}).Text)
			if app == nil {
				t.Fatal("no app setup")
			}
			newPhone := fmt.Sprintf("+4474009%05d", i)
			sitetest.Expect(t, cb.PostURL(b("/.smsgate/devices"), url.Values{"action": {"add"}, "phone": {newPhone}, "csrf": {tokB}}), http.StatusSeeOther, "/.smsgate/verify")
			code := s.LastCode()
			before := len(s.Notices())

			var appRes, phoneRes *sitetest.Response
			var removed int
			var removal string
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				appRes = ca.PostURL(a("/.smsgate/devices"), url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, app[1])}, "csrf": {tokA}})
			})
			wg.Go(func() {
				<-start
				phoneRes = cb.PostURL(b("/.smsgate/verify"), url.Values{"code": {code}, "csrf": {tokB}})
			})
			wg.Go(func() {
				<-start
				removed, removal = s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"sso.localhost","user":%q,"id":%q}`, user, ids[0]))
			})
			close(start)
			wg.Wait()

			if removed != http.StatusOK {
				t.Fatalf("run %d: the admin's removal: %d %s", i, removed, removal)
			}
			var appKept, phoneKept bool
			switch {
			case appRes.StatusCode == http.StatusOK && strings.Contains(appRes.Text, "The authenticator app was added."):
				appKept = true
			case appRes.StatusCode == http.StatusSeeOther && appRes.Header.Get("Location") == "/.smsgate/login",
				appRes.StatusCode == http.StatusFound: // the session ended before the request was let in
			default:
				t.Fatalf("run %d: the app's confirmation: %d %s %.300s", i, appRes.StatusCode, appRes.Header.Get("Location"), appRes.Text)
			}
			switch loc := phoneRes.Header.Get("Location"); {
			case phoneRes.StatusCode == http.StatusSeeOther && loc == "/.smsgate/devices":
				phoneKept = true
			case phoneRes.StatusCode == http.StatusSeeOther && loc == "/.smsgate/login",
				phoneRes.StatusCode == http.StatusBadRequest: // its code used up, the session gone: a new sign-in
			default:
				t.Fatalf("run %d: the new phone's code: %d %s %.300s", i, phoneRes.StatusCode, loc, phoneRes.Text)
			}
			list := listOf(t, s, "sso.localhost", user)
			kinds := map[string]int{}
			for _, d := range list {
				if d["id"] == ids[0] {
					t.Fatalf("run %d: the removed phone is back: %v", i, list)
				}
				kinds[fmt.Sprint(d["kind"])]++
			}
			if hasApp := kinds["totp"] == 1; hasApp != appKept {
				t.Fatalf("run %d: the app answered kept %v; on her list %v: %v", i, appKept, hasApp, list)
			}
			if hasPhone := len(list)-kinds["totp"] == 2; hasPhone != phoneKept {
				t.Fatalf("run %d: the phone answered kept %v; on her list %v: %v", i, phoneKept, hasPhone, list)
			}
			// The app's confirmation signs nobody in; the new phone's code
			// does (a session the new phone earned, which its kept adding
			// leaves: her removal of the phone that signed b in does not reach
			// a device its session added before it, enrollment/addedby.go).
			if res := ca.GetURL(a("/")); res.StatusCode == http.StatusOK {
				t.Fatalf("run %d: a session the removed phone signed in lasts: %s", i, res.Text)
			}
			if res := cb.GetURL(b("/")); (res.StatusCode == http.StatusOK) != phoneKept {
				t.Fatalf("run %d: the new phone kept %v; the browser that added it: %d %s", i, phoneKept, res.StatusCode, res.Text)
			}
			told := map[string]int{}
			for _, n := range s.Notices()[before:] {
				for _, what := range []string{"was removed", "authenticator app was added", "new phone"} {
					if strings.Contains(n, what) {
						told[what+" → "+n[strings.LastIndex(n, "→")+4:]]++
					}
				}
			}
			for what, n := range told {
				if n != 1 {
					t.Fatalf("run %d: told %q %d times", i, what, n)
				}
			}
			outcomes[fmt.Sprintf("app kept %v, phone kept %v", appKept, phoneKept)]++
		}
		log, err := os.ReadFile(s.LogFile)
		if err != nil {
			t.Fatal(err)
		}
		raw := strings.Join(strings.Fields(string(log)), "")
		for _, number := range []string{"14155555", "4474009"} { // her phones' and the new ones' (whole numbers only)
			if strings.Contains(raw, number) {
				t.Fatalf("the log holds a whole number (%s…)", number)
			}
		}
		t.Logf("%d runs: %v", runs, outcomes)
	})
}
