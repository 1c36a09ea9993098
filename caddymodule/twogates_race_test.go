package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTwoGatesRemoveTwoPhonesAtOnceThroughCaddy: two Caddy sites of one
// realm on one store (Badger, and a real Redis), a user signed in at each
// in a browser of its own, each removing a different one of the user's
// three phones from its devices page at the same moment: both removals
// last, and the third phone stays. Each removes a phone other than the
// default, whose code signed both browsers in (a removal ends what its
// phone earned, the other browser's session too: its removal was then
// refused, 303 to the login page, in 1 of 3 runs). (enrollment's
// TestTwoGatesRemoveTwoPhonesAtOnce races the same in every interleaving
// of the two removals' reads of the devices.)
func TestTwoGatesRemoveTwoPhonesAtOnceThroughCaddy(t *testing.T) {
	sitetest.Parallel(t)
	onEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		gate := "smsgate {\n\t\tidentity none\n\t\trealm sso.localhost\n\t\t" + storeLine + "\n\t\tprovider log\n\t\tresend_cooldown 1s\n" + limitsOff + "\t}"
		s := sitetest.Start(t, "http://a.sso.localhost:{HTTP_PORT} {\n\t"+gate+"\n\trespond \"a {http.auth.user.id}\"\n}\nhttp://b.sso.localhost:{HTTP_PORT} {\n\t"+gate+"\n\trespond \"b {http.auth.user.id}\"\n}")
		a := func(p string) string { return absolute(s, "a.sso.localhost", p) }
		b := func(p string) string { return absolute(s, "b.sso.localhost", p) }
		admin := func(method, path, body string) string {
			t.Helper()
			st, out := s.Admin(method, path, body)
			if st != http.StatusOK {
				t.Fatalf("%s %s: %d %s", method, path, st, out)
			}
			return out
		}
		// signedIn is a browser of user's signed in at the gate at, and the
		// csrf token of its devices page.
		signedIn := func(user string, at func(string) string) (*sitetest.Client, string) {
			t.Helper()
			s.Advance(time.Minute) // past the last code's waits
			c := sitetest.NewClient(t, "")
			tok := sitetest.CSRFField.FindStringSubmatch(c.GetURL(at("/.smsgate/login")).Text)[1]
			sitetest.Expect(t, c.PostURL(at("/.smsgate/login"), url.Values{"username": {user}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, c.PostURL(at("/.smsgate/verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
			m := sitetest.CSRFField.FindStringSubmatch(c.GetURL(at("/.smsgate/devices")).Text)
			if m == nil {
				t.Fatalf("%s's devices page at %s: no form", user, at(""))
			}
			return c, m[1]
		}
		const runs = 8
		back := 0
		for i := range runs {
			user := fmt.Sprint("dora", i)
			var ids []string
			for j := range 3 {
				var added struct{ ID string }
				_ = json.Unmarshal([]byte(admin("POST", "/smsgate/users", fmt.Sprintf(`{"realm":"sso.localhost","user":%q,"phone":"+1415555%04d"}`, user, 3000+10*i+j))), &added)
				ids = append(ids, added.ID)
			}
			ca, tokA := signedIn(user, a)
			cb, tokB := signedIn(user, b)
			remove := func(c *sitetest.Client, at func(string) string, tok, id string) func() *sitetest.Response {
				return func() *sitetest.Response {
					return c.PostURL(at("/.smsgate/devices"), url.Values{"action": {"remove"}, "device": {id}, "confirm": {"1"}, "csrf": {tok}})
				}
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			answers := make([]*sitetest.Response, 2)
			for k, f := range []func() *sitetest.Response{remove(ca, a, tokA, ids[1]), remove(cb, b, tokB, ids[2])} {
				wg.Go(func() { <-start; answers[k] = f() })
			}
			close(start)
			wg.Wait()
			for k, res := range answers {
				if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "removed") {
					t.Fatalf("run %d: the removal at gate %c: %d %.300s", i, 'a'+k, res.StatusCode, res.Text)
				}
			}
			var users []struct {
				User    string
				Devices []struct{ ID string }
			}
			if err := json.Unmarshal([]byte(admin("GET", "/smsgate/users?realm=sso.localhost", "")), &users); err != nil {
				t.Fatal(err)
			}
			at := slices.IndexFunc(users, func(u struct {
				User    string
				Devices []struct{ ID string }
			}) bool {
				return u.User == user
			})
			if at < 0 || len(users[at].Devices) != 1 || users[at].Devices[0].ID != ids[0] {
				back++
				t.Logf("run %d: %s's devices after the two removals: %v (removed %s and %s)", i, user, users, ids[1], ids[2])
			}
		}
		if back > 0 {
			t.Errorf("in %d of %d runs a removal made at one gate while the other gate removed another phone did not last", back, runs)
		}
	})
}
