package caddymodule_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheConsoleShowsWhichNumberADeviceWasAddedFrom: alice, a provisioned
// user, adds her phone P from her config phone's session; the admin's
// console shows P added from that number, masked, in English and in
// German. Once her line is deleted (P stays: every device she has), it
// says P came from a number no longer given her: what the admin reads to
// tell which devices the old number added. On Badger and Redis, through
// a real Caddy. (Before, review13: the admin API answered added_by, the
// console showed nothing of it.)
func TestTheConsoleShowsWhichNumberADeviceWasAddedFrom(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		const bob = "\t\tuser bob +14155550199\n\t\tadmins bob\n" + limitsOff
		s := textSite(t, storeLine, []string{"alice", "bob"}, "\t\tuser alice +14155552671\n"+bob)
		alice, admin := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")
		signIn(t, s, alice)
		addPhone(t, s, alice, "+14155559001", "P")
		signIn(t, s, admin)
		console := func(lang, want string) {
			t.Helper()
			admin.Header = http.Header{"Accept-Language": {lang}}
			for _, page := range []string{"/.smsgate/admin/user?name=alice", "/.smsgate/admin/?q=alice"} {
				res := admin.Get(page)
				sitetest.Expect(t, res, http.StatusOK, "")
				if text := html.UnescapeString(res.Text); !strings.Contains(text, "<td>"+want+"</td>") || strings.Contains(text, "4155552671") {
					t.Errorf("%s in %s: P added from %q? (no whole number)\n%s", page, lang, want, res.Text)
				}
			}
		}
		console("en", "+1•••••••671")
		console("de", "+1•••••••671")
		if res := admin.Get("/.smsgate/admin/user?name=alice"); !strings.Contains(res.Text, "Hinzugefügt über") {
			t.Errorf("the German console names no column for it:\n%s", res.Text)
		}

		s = textSite(t, keep(s), []string{"alice", "bob"}, bob) // her line deleted: P stays
		admin.HTTP.CloseIdleConnections()
		console("en", "a number no longer given")
		console("de", "eine nicht mehr vergebene Nummer")
	})
}
