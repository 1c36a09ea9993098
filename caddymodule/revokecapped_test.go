package caddymodule_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// TestACappedRevokeIsToldOnce (clock32 2), through a real Caddy: a gate
// whose clock is 10 minutes ahead signs alice in, and her sessions by its
// trust push the first off her list; with the clock put back on time the
// admin revokes her twice. The revocation's record moves on to the
// session pushed off only 30 s past the clock (a gate on time refuses
// further), which says a clock is wrong: one warning says so, with her
// name and the gap in seconds, no session's ID; the second revoke's is
// counted, not written (a minute per realm). Before, nothing was logged.
func TestACappedRevokeIsToldOnce(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice"}, "\t\tremember 30d\n")
	addUser(t, s, "alice", "+14155552671")
	s.Advance(10 * time.Minute) // a gate's clock far ahead
	_, first, list := pushOffTheList(t, s)
	s.Advance(-10*time.Minute - session.MaxListed*time.Second) // on time
	for range 2 {
		if st, out := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"alice"}`); st != http.StatusOK {
			t.Fatalf("revoke: %d %s", st, out)
		}
	}
	told := s.LogEntries(session.CappedMessage)
	if len(told) != 1 {
		t.Fatalf("the capped revoke told %d times, want once: %v", len(told), told)
	}
	w := told[0]
	if gap, _ := w["gap_seconds"].(float64); w["user"] != "alice" || w["level"] != "warn" || gap < 540 || gap > 601 {
		t.Errorf("the warning: %v; want alice's, the gap about 600 s", w)
	}
	line := fmt.Sprint(w)
	for _, l := range list {
		if strings.Contains(line, l.SID) {
			t.Errorf("the warning names a session: %v", w)
		}
	}
	if strings.Contains(line, first.Cookie("smsgate_session")) {
		t.Errorf("the warning holds a token: %v", w)
	}
}
