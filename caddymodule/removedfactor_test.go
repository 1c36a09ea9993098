package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestACodeToARemovedPhoneSignsNobodyIn: a user's phone is stolen with
// their password; the thief asks for a code, which goes to the stolen
// phone; the admin removes the phone (the admin API) before the thief
// types it. The code must not sign anyone in: a removed phone proves
// nothing, though its code was sent before the removal. On Badger and on
// Redis, through a real Caddy. (Before, the code signed the thief in: the
// check consumed the challenge without asking whether its phone was still
// the user's.)
func TestACodeToARemovedPhoneSignsNobodyIn(t *testing.T) {
	sitetest.Parallel(t)
	onEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth {
		alice `+sitetest.DemoHash+`
	}
	smsgate {
		realm localhost
		enrollment closed
		`+storeLine+`
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552671"}`)
		if st != http.StatusOK {
			t.Fatalf("adding alice: %d %s", st, out)
		}
		var added struct{ ID string }
		_ = json.Unmarshal([]byte(out), &added)

		thief := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		tok := thief.CSRF("/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()

		if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, added.ID)); st != http.StatusOK {
			t.Fatalf("removing the phone: %d %s", st, out)
		}
		res := thief.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" || thief.Cookie("smsgate_session") != "" {
			t.Fatalf("a code sent to a phone the admin then removed signed in: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("after a code to a removed phone: %d %s", res.StatusCode, res.Text)
		}
	})
}

// TestAPhoneBeingAddedDoesNotOutliveAReset: someone signed in as the user
// (a stolen session, a shared password) starts adding their own phone;
// the admin resets the user (every phone removed, every session ended)
// before its code is typed. The code must neither add that phone to the
// reset user nor sign anyone in. (Before, it did both: a phone added
// after the reset, and a new session with it.)
func TestAPhoneBeingAddedDoesNotOutliveAReset(t *testing.T) {
	sitetest.Parallel(t)
	onEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth {
		alice `+sitetest.DemoHash+`
	}
	smsgate {
		realm localhost
		enrollment closed
		`+storeLine+`
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		if st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552671"}`); st != http.StatusOK {
			t.Fatalf("adding alice: %d %s", st, out)
		}
		intruder := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, intruder.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		tok := intruder.CSRF("/.smsgate/verify")
		sitetest.Expect(t, intruder.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, intruder.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

		// A fresh sign-in: the devices page adds a phone without a step-up.
		tok = intruder.CSRF("/.smsgate/devices")
		sitetest.Expect(t, intruder.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+447400123456"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()

		s.Advance(time.Second)
		if st, out := s.Admin("POST", "/smsgate/reset", `{"realm":"localhost","user":"alice"}`); st != http.StatusOK {
			t.Fatalf("resetting alice: %d %s", st, out)
		}
		s.Advance(time.Second)
		res := intruder.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		if strings.Contains(out, "456") || res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/.smsgate/devices" {
			t.Fatalf("a phone whose adding began before the admin's reset was added after it: %d %s; users: %s", res.StatusCode, res.Header.Get("Location"), out)
		}
		if res := intruder.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("signed in after the reset: %s", res.Text)
		}
	})
}

// TestAResetEndsAFactorBeingAdded: someone signed in as the user confirms
// an authenticator app on the devices page while the admin resets the
// user (the admin API), the two at once, many times over, on Badger and on
// Redis. Once both answered, the reset must hold: whichever came first,
// the user has no device. (Before, the app's confirmation, let in by a
// session the reset had not yet ended, wrote the app after the reset
// removed every device: the reset user kept the intruder's app.)
func TestAResetEndsAFactorBeingAdded(t *testing.T) {
	sitetest.Parallel(t)
	runs := 30
	onEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		var users strings.Builder
		for i := range runs {
			fmt.Fprintf(&users, "\t\treset%d %s\n", i, sitetest.DemoHash)
		}
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth {
`+users.String()+`	}
	smsgate {
		realm localhost
		enrollment closed
		`+storeLine+`
		provider log
		limit user off
		limit number off
		limit ip off
		limit country off
		limit global_enrolled off
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		secretOf := regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`)
		kept := 0
		var took time.Duration
		for i := range runs {
			user := fmt.Sprint("reset", i)
			if st, out := s.Admin("POST", "/smsgate/users", fmt.Sprintf(`{"realm":"localhost","user":%q,"phone":"+14155552671"}`, user)); st != http.StatusOK {
				t.Fatalf("adding %s: %d %s", user, st, out)
			}
			c := sitetest.NewClient(t, user)
			sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
			tok := c.CSRF("/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
			tok = c.CSRF("/.smsgate/devices")
			res := c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}})
			m := secretOf.FindStringSubmatch(res.Text)
			if m == nil {
				t.Fatalf("no app secret: %d\n%s", res.StatusCode, res.Text)
			}
			code := sitetest.AppCode(t, m[1])
			reset, _ := http.NewRequest("POST", s.WithPorts("http://localhost:{ADMIN_PORT}/smsgate/reset"),
				strings.NewReader(fmt.Sprintf(`{"realm":"localhost","user":%q}`, user)))
			reset.Header.Set("Content-Type", "application/json")
			var wg sync.WaitGroup
			start, delay := make(chan struct{}), took*time.Duration(i%10)/10
			wg.Go(func() {
				<-start
				time.Sleep(delay)
				res, err := http.DefaultClient.Do(reset)
				if err != nil || res.StatusCode != http.StatusOK {
					t.Errorf("reset: %v %v", err, res)
				}
				if err == nil {
					res.Body.Close()
				}
			})
			wg.Go(func() {
				<-start
				began := time.Now()
				c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {code}, "csrf": {tok}})
				took = max(took, time.Since(began))
			})
			close(start)
			wg.Wait()
			_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
			var list []struct {
				User    string
				Devices []struct{ ID string }
			}
			_ = json.Unmarshal([]byte(out), &list)
			for _, u := range list {
				if u.User == user && len(u.Devices) > 0 {
					kept++
				}
			}
		}
		if kept > 0 {
			t.Fatalf("in %d runs, the reset user kept a device added while the admin reset them %d times", runs, kept)
		}
	})
}
