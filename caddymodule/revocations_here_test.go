package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestRevocationAtOnceAtEveryGateOfTheStore: two gates of one realm on one
// Badger folder, in one Caddy. Each loads a store module of its own (two
// *Badger over the folder's one database), and a revocation made at one
// of them (a logout there, or the admin API's end, which acts through the
// gate it picks for the realm) must reach the other's cache at once, as
// it reaches its own: before, the other went on serving the session from
// its cache until its next poll of the revocation log. No clock moves
// here, so no poll comes between (the requests are milliseconds apart;
// the poll is every second).
func TestRevocationAtOnceAtEveryGateOfTheStore(t *testing.T) {
	sitetest.Parallel(t)
	s, a, b := twoGatesOnOneStore(t)
	out := func(c *sitetest.Client, what string) {
		t.Helper()
		for _, at := range []string{a("/"), b("/")} {
			if res := c.GetURL(at); res.StatusCode != http.StatusFound {
				t.Errorf("%s: %s still admits the session: %d %s", what, at, res.StatusCode, res.Text)
			}
		}
	}

	// A logout at a.
	stolen := loggedOut(t, carolSignedIn(t, s, a, b), a)
	thief := sitetest.NewClient(t, "")
	thief.SetCookieFor(a("/"), "smsgate_session", stolen)
	thief.SetCookieFor(b("/"), "smsgate_session", stolen)
	out(thief, "after a logout at a")

	// The admin API ends the session, and revokes all of carol's.
	for _, call := range []string{"/smsgate/sessions/end", "/smsgate/revoke"} {
		c := carolSignedIn(t, s, a, b)
		st, body := s.Admin(http.MethodGet, "/smsgate/sessions?realm=sso.localhost&user=carol", "")
		var listed []struct {
			SID string `json:"sid"`
		}
		if err := json.Unmarshal([]byte(body), &listed); st != http.StatusOK || err != nil || len(listed) == 0 {
			t.Fatalf("carol's sessions: %d %s", st, body)
		}
		req := `{"realm":"sso.localhost","user":"carol","id":"` + listed[0].SID + `"}`
		if call == "/smsgate/revoke" {
			req = `{"realm":"sso.localhost","user":"carol"}`
		}
		if st, body := s.Admin(http.MethodPost, call, req); st != http.StatusOK {
			t.Fatalf("%s: %d %s", call, st, body)
		}
		out(c, "after "+call)
	}
}
