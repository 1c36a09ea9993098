package caddymodule_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestADeviceTheThiefAddedGoesWithTheNumberAfterANewSecret: the thief
// signs in with alice's provisioned phone and adds his phone X; then the
// store's secret changes (an import of another store's, adopted by the
// running gate: signin.Service.Rekey), the key a number's hash is made
// with with it. The admin's console still says X was added from alice's
// number (masked), and once the admin gives alice a new number and
// reloads, X goes. On Badger and Redis, through a real Caddy. (Before,
// review14 L2: the console said "a number no longer given" for a number
// still given, and the settle, finding a record of the old key, replaced
// it and removed nothing: X still signed the thief in.)
func TestADeviceTheThiefAddedGoesWithTheNumberAfterANewSecret(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		sitetest.Shorten(t, "store-watch", 200*time.Millisecond) // the gate's next look, sooner
		const bob = "\t\tuser bob +14155550199\n\t\tadmins bob\n" + limitsOff
		s := textSite(t, storeLine, []string{"alice", "bob"}, "\t\tuser alice +14155552671\n"+bob)
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		x := addPhone(t, s, thief, "+14155559001", "X")

		// A flow begun under the old secret: once it no longer opens (the
		// verify page begins another, with another form token), the gate
		// has adopted the new secret whole (the sessions' key first, the
		// flows' and their seal's just after: a sign-in begun between is
		// refused as an expired form; a page read under the old keys saves
		// a fresh flow, TestAFlowReadUnderTheOldSecretIsNotCarriedOverToTheNew).
		flow := sitetest.NewClient(t, "bob")
		begun := flowBegun(t, flow)
		importAnotherSecret(t, s)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			refused, ended := thief.Get("/").StatusCode == http.StatusFound, flow.CSRF("/.smsgate/verify") != begun
			if refused && ended {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the gate did not adopt the imported secret in 30 s: the thief's session refused %v, the flow begun before ended %v", refused, ended)
			}
		}

		admin := sitetest.NewClient(t, "bob")
		signIn(t, s, admin)
		var text string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			res := admin.Get("/.smsgate/admin/user?name=alice")
			if text = html.UnescapeString(res.Text); strings.Contains(text, "<td>+1•••••••671</td>") {
				break
			}
		}
		if !strings.Contains(text, "<td>+1•••••••671</td>") {
			t.Errorf("after the new secret the console does not say X came from alice's number:\n%s", text)
		}

		s = textSite(t, keep(s), []string{"alice", "bob"}, "\t\tuser alice +447400123456\n"+bob)
		if phoneSignsIn(t, s, x) {
			t.Error("the phone the thief added before the new secret signed him in after the config took the number away")
		}
		if got := deviceNames(t, s); got != "" {
			t.Errorf("alice's devices after the reload: %q (want none: X went)", got)
		}
	})
}
