package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestRemovedDeviceStaysRemoved: through a real Caddy, an admin removes
// phones of a user (the admin API) while the user signs in with another,
// in several browsers at once. A sign-in records its phone's last use in
// the same record as the phones; every removal must hold, and every last
// use too, whichever lands first, on Badger and on Redis. (Before the
// records were updated atomically, removed phones came back in most runs.)
func TestRemovedDeviceStaysRemoved(t *testing.T) {
	sitetest.Parallel(t)
	// runs, and phones removed and sign-ins in each. Without atomic
	// updates, 8 runs brought 14–24 of their 32 removed phones back on
	// each store; SMSGATE_FULL=1 plays 25.
	runs, perRun := 8, 4
	if os.Getenv("SMSGATE_FULL") != "" {
		runs = 25
	}
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		// The users sign in with basic_auth, then a code to their
		// default phone.
		users := make([]string, runs)
		for i := range users {
			users[i] = fmt.Sprint("race", i)
		}
		s := textSite(t, storeLine, users, limitsOff+"\t\tresend_cooldown 1s\n")
		adminOK := func(method, path, body string) string {
			t.Helper()
			st, out := sitetest.Admin(t, method, path, body)
			if st != http.StatusOK {
				t.Fatalf("%s %s: %d %s", method, path, st, out)
			}
			return out
		}
		back, lost := 0, 0
		var took time.Duration // how long the last run's code checks took, at most
		for i := range runs {
			user := fmt.Sprint("race", i)
			// Phone B is the default (the first); the others are the
			// ones the admin removes.
			adminOK("POST", "/smsgate/users", fmt.Sprintf(`{"realm":"localhost","user":%q,"phone":"+14155550100"}`, user))
			removals := map[string]*http.Request{}
			for j := range perRun {
				var added struct{ ID string }
				_ = json.Unmarshal([]byte(adminOK("POST", "/smsgate/users", fmt.Sprintf(`{"realm":"localhost","user":%q,"phone":"+1415555%04d"}`, user, 2671+j))), &added)
				req, _ := http.NewRequest("POST", s.WithPorts("http://localhost:{ADMIN_PORT}/smsgate/devices/remove"),
					strings.NewReader(fmt.Sprintf(`{"realm":"localhost","user":%q,"id":%q}`, user, added.ID)))
				req.Header.Set("Content-Type", "application/json")
				removals[added.ID] = req
			}

			// Browsers signing in as the user with phone B, each with
			// its code, typed all at once while the admin removes the
			// other phones.
			var verifies []func() (*http.Response, error)
			for j := range perRun {
				c := sitetest.NewClient(t, user)
				sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
				tok := c.CSRF("/.smsgate/verify")
				s.Advance(time.Second << j) // past the user's cooldown (1 s, doubling with each code none used yet)
				sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
				req, _ := http.NewRequest(http.MethodPost, s.WithPorts(s.Base+"/.smsgate/verify"), strings.NewReader(url.Values{"code": {s.LastCode()}, "csrf": {tok}}.Encode()))
				req.SetBasicAuth(user, "demo")
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Accept", "text/html")
				verifies = append(verifies, func() (*http.Response, error) { return c.HTTP.Do(req) })
			}

			// The removals land anywhere in the code checks, as the runs go by.
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failed []string
			done := func(what string, want int, res *http.Response, err error) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					failed = append(failed, what+": "+err.Error())
				case res.StatusCode != want:
					failed = append(failed, what+": "+res.Status)
				}
				if err == nil {
					res.Body.Close()
				}
			}
			start, delay, before := make(chan struct{}), took*time.Duration(i)/time.Duration(runs), s.Now()
			took = 0
			for _, req := range removals {
				wg.Go(func() {
					<-start
					time.Sleep(delay) // a sleep, not a spin: spinning took the CPU the sign-ins need
					res, err := http.DefaultClient.Do(req)
					done("removal", http.StatusOK, res, err)
				})
			}
			for _, verify := range verifies {
				wg.Go(func() {
					<-start
					began := time.Now()
					res, err := verify()
					mu.Lock()
					took = max(took, time.Since(began))
					mu.Unlock()
					done("sign-in", http.StatusSeeOther, res, err)
				})
			}
			close(start)
			wg.Wait()
			if len(failed) > 0 {
				t.Fatalf("run %d: %v", i, failed)
			}
			var users []struct {
				User    string
				Devices []struct {
					ID       string
					LastUsed time.Time `json:"last_used"`
				}
			}
			_ = json.Unmarshal([]byte(adminOK("GET", "/smsgate/users?realm=localhost", "")), &users)
			for _, u := range users {
				for _, d := range u.Devices {
					switch {
					case u.User != user:
					case removals[d.ID] != nil:
						back++
					case d.LastUsed.Before(before):
						lost++ // the sign-ins' last use of phone B
					}
				}
			}
		}
		if back > 0 || lost > 0 {
			t.Fatalf("in %d runs, a phone the admin removed was back %d times after the user's sign-in; the sign-in's last use was lost %d times", runs, back, lost)
		}
	})
}
