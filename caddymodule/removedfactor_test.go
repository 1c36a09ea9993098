package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

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
