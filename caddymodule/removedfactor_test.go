package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
