package pages_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnEmptyFilterSaysSo (walk34): through a real Caddy, the console's
// what happened, filtered to a kind of which there is none, says "No
// events of this kind." (en + de), and to a user with none, "No events
// for this user."; to both, "No events of this kind for {user}." (walk35:
// "No events of this kind." where there were some, none of hers); "Nothing yet." is left to a console with no events at
// all. Before: "Nothing yet." under any filter, beside a list that had
// events.
func TestAnEmptyFilterSaysSo(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155550101")
	for _, tc := range []struct{ lang, query, says string }{
		{"en", "?kind=sim_swap", "No events of this kind."},
		{"de", "?kind=sim_swap", "Keine Ereignisse dieser Art."},
		{"en", "?user=nobody", "No events for this user."},
		{"de", "?user=nobody", "Keine Ereignisse für diesen Benutzer."},
		// Both: of this kind there are events, none of hers (walk35).
		{"en", "?kind=code_&user=nobody", "No events of this kind for nobody."},
		{"de", "?kind=code_&user=nobody", "Keine Ereignisse dieser Art für nobody."},
	} {
		alice.Header = http.Header{"Accept-Language": {tc.lang}}
		res := alice.Get("/.smsgate/admin/events" + tc.query)
		sitetest.Expect(t, res, http.StatusOK, "")
		if !strings.Contains(res.Text, "<p>"+tc.says+"</p>") || strings.Contains(res.Text, "Nothing yet.") || strings.Contains(res.Text, "Noch nichts.") {
			t.Errorf("%s %s: want %q:\n%s", tc.lang, tc.query, tc.says, res.Text)
		}
	}
}
