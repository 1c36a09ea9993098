package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// danInvite is the link of an invite for dan, on his gate.
var danInvite = regexp.MustCompile(`/dan/\.smsgate/invite\?token=([A-Za-z0-9]+)`)

// TestAnAdminsInviteWorksAtAGateOfHerRealmThatNamesNoAdmin (minted37): an
// admin's console invite is honoured while the config names her in the
// admins of a gate of its realm. alice, an admin of the login form,
// invites dan, whom only the realm's gate behind basic_auth signs in (it
// names no admin): the link leads there, and works, as the realm's
// admins are that gate's too. Through a real Caddy, on Badger and Redis.
// (With each gate asking its own admins, dan's link was refused.)
func TestAnAdminsInviteWorksAtAGateOfHerRealmThatNamesNoAdmin(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, strings.ReplaceAll(sitetest.InvitingSite, "store badger {DIR}", storeLine))
		admin := sitetest.NewClient(t, "")
		sitetest.SignInAs(t, s, admin, "alice")
		path := "/.smsgate/admin/user?name=dan"
		res := sitetest.ConsoleDone(t, consolePost(admin, path, url.Values{"action": {"invite"}, "csrf": {admin.CSRF(path)}}, s.Base), "invite")
		link := danInvite.FindStringSubmatch(res.Text)
		if link == nil {
			t.Fatalf("the invite for dan: %d, no link to his gate\n%s", res.StatusCode, res.Text)
		}
		dan := sitetest.NewClient(t, "dan")
		page := dan.Get(link[0])
		if page.StatusCode != http.StatusOK {
			t.Fatalf("dan's link, at his gate: %d\n%s", page.StatusCode, page.Text)
		}
		tok := sitetest.CSRFField.FindStringSubmatch(page.Text)
		if tok == nil {
			t.Fatalf("dan's invite page has no form\n%s", page.Text)
		}
		sitetest.Expect(t, dan.Post("/dan/.smsgate/invite", url.Values{"token": {link[1]}, "csrf": {tok[1]}}), http.StatusSeeOther, "/dan/.smsgate/enroll")
	})
}
