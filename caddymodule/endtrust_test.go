package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnEndedSessionDoesNotComeBackByItsTrust: the admin sees a session
// they do not trust (a stolen password and phone) and ends it, on the
// console or through the admin API. The browser that held it asked to be
// trusted when it signed in: it must not sign in again with that trust
// at once, without a code. Both ways a session has a trust: its sign-in
// made it (alice), or it came from it (bob's second session). (Before,
// ending the session ended only the session: the next visit to the login
// page was a new one, without a code.)
func TestAnEndedSessionDoesNotComeBackByItsTrust(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice", "bob"}, "\t\tremember 30d\n")
	end := func(c *sitetest.Client) {
		t.Helper()
		_, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user="+c.User, "")
		var list []struct{ SID string }
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) == 0 {
			t.Fatalf("%s's sessions: %s", c.User, out)
		}
		st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":%q,"id":%q}`, c.User, list[0].SID))
		if st != http.StatusOK {
			t.Fatalf("ending %s's session: %d %s", c.User, st, out)
		}
		if res := c.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("%s's ended session: %s", c.User, res.Text)
		}
		if res := c.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Errorf("%s's browser signed in again with the trust of the session the admin ended", c.User)
		}
	}
	for _, c := range []*sitetest.Client{sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")} {
		addUser(t, s, c.User, map[string]string{"alice": "+14155552671", "bob": "+14155552672"}[c.User])
		tok := codeSent(t, c)
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		if c.User == "bob" {
			// bob's session ends (its cookie gone); the trust signs him in again.
			c.SetCookie("smsgate_session", "")
			sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
			sitetest.ExpectBody(t, c.Get("/"), "Hello, bob!")
		}
		end(c)
	}
}
