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
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, a, b := twoGatesOn(t, storeLine)
		admin := func(method, path, body string) string {
			t.Helper()
			st, out := s.Admin(method, path, body)
			if st != http.StatusOK {
				t.Fatalf("%s %s: %d %s", method, path, st, out)
			}
			return out
		}
		const runs = 8
		back := 0
		for i := range runs {
			user := fmt.Sprint("dora", i)
			ids := addPhones(t, s, user, 3000+10*i, 3)
			ca, tokA := signedInAt(t, s, sitetest.NewClient(t, ""), user, a)
			cb, tokB := signedInAt(t, s, sitetest.NewClient(t, ""), user, b)
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

// twoGatesOn is twoGates of realm sso.localhost, both on storeLine's
// store, codes sent again after a second, no limits (limitsOff).
func twoGatesOn(t *testing.T, storeLine string) (s *sitetest.Site, a, b func(path string) string) {
	t.Helper()
	gate := "smsgate {\n\t\tidentity none\n\t\trealm sso.localhost\n\t\t" + storeLine + "\n\t\tprovider log\n\t\tresend_cooldown 1s\n" + limitsOff + "\t}"
	return twoGates(t, gate, gate)
}

// addPhones gives user n phones through s's admin API, +1415555 and
// first, first+1, … (4 digits), and answers their device IDs.
func addPhones(t *testing.T, s *sitetest.Site, user string, first, n int) []string {
	t.Helper()
	var ids []string
	for j := range n {
		st, out := s.Admin("POST", "/smsgate/users", fmt.Sprintf(`{"realm":"sso.localhost","user":%q,"phone":"+1415555%04d"}`, user, first+j))
		var added struct{ ID string }
		if st != http.StatusOK || json.Unmarshal([]byte(out), &added) != nil {
			t.Fatalf("adding a phone: %d %s", st, out)
		}
		ids = append(ids, added.ID)
	}
	return ids
}

// signedInAt signs user in at the gate at in browser c, with the code s
// sent a minute on (past the last code's waits), and answers c and the
// csrf token of its devices page.
func signedInAt(t *testing.T, s *sitetest.Site, c *sitetest.Client, user string, at func(string) string) (*sitetest.Client, string) {
	t.Helper()
	s.Advance(time.Minute)
	tok := sitetest.CSRFField.FindStringSubmatch(c.GetURL(at("/.smsgate/login")).Text)[1]
	sitetest.Expect(t, c.PostURL(at("/.smsgate/login"), url.Values{"username": {user}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.PostURL(at("/.smsgate/verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	m := sitetest.CSRFField.FindStringSubmatch(c.GetURL(at("/.smsgate/devices")).Text)
	if m == nil {
		t.Fatalf("%s's devices page at %s: no form", user, at(""))
	}
	return c, m[1]
}
