package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// inviteLink finds the token of the invite link a console page shows.
var inviteLink = regexp.MustCompile(`/\.smsgate/invite\?token=([A-Za-z0-9]+)`)

// TestAReloadedConsoleInviteReplacesTheFirstLink (invite24, review25):
// the console answers its invite with a page holding the link (never put
// in an address, so no redirect), and a reload of that page posts the
// form again and mints another invite. The first link must stop working
// once the second is minted: at its GET and at its POST, with a page that
// says it was replaced, and nothing enrolled by it; the second works. An
// invite the previous release minted (no record of the user's newest)
// still works. On Badger and Redis, through a real Caddy. (Before, both
// links worked until used: an admin who reloaded and sent the second
// still had the first out there.)
func TestAReloadedConsoleInviteReplacesTheFirstLink(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		// The previous release's invite for carl, written before the
		// gate opens the store (Badger is one process's).
		const oldToken = "PREVIOUSRELEASEINVITETOKEN234567"
		putPreviousInvite(t, st, time.Now(), oldToken, "carl", nil)
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}

		s := textSite(t, storeLine, []string{"alice", "bob", "carl"}, "\t\tadmins alice\n")
		addUser(t, s, "alice", "+14155552670")
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		const console = "/.smsgate/admin/user?name=bob"
		form := url.Values{"action": {"invite"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(alice.Get(console).Text)[1]}}
		mint := func() string {
			t.Helper()
			res := sitetest.ConsoleDone(t, alice.PostWith(console, form, map[string]string{"Origin": s.Base}), "invite")
			m := inviteLink.FindStringSubmatch(res.Text)
			if res.StatusCode != http.StatusOK || m == nil {
				t.Fatalf("the console's invite: %d, no link", res.StatusCode)
			}
			return m[1]
		}
		first := mint()
		second := mint() // the same form posted again (a reload now GETs: Post/Redirect/Get)
		if first == second {
			t.Fatal("the reload answered the same link")
		}

		const replaced = "This invite link was replaced by a newer one"
		bob := sitetest.NewClient(t, "bob")
		tok := bob.CSRF("/.smsgate/invite?token=" + second) // enrollment is closed: no login page; a GET burns nothing
		res := bob.Get("/.smsgate/invite?token=" + first)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("the first link's GET, after the reload minted another: %d; want 400", res.StatusCode)
		}
		sitetest.ExpectBody(t, res, replaced)
		res = bob.Post("/.smsgate/invite", url.Values{"token": {first}, "csrf": {tok}})
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("the first link taken, after the reload minted another: %d %s; want 400", res.StatusCode, res.Header.Get("Location"))
		}
		sitetest.ExpectBody(t, res, replaced)
		sent := s.Sent()
		if bob.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}); s.Sent() != sent {
			bob.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
		}
		if _, users := s.Admin("GET", "/smsgate/users?realm=localhost", ""); regexp.MustCompile(`"user":"bob"`).MatchString(users) {
			t.Fatalf("the first link enrolled a phone for bob: %s", users)
		}

		// The second link works.
		sitetest.Expect(t, bob.Get("/.smsgate/invite?token="+second), http.StatusOK, "")
		sitetest.Expect(t, bob.Post("/.smsgate/invite", url.Values{"token": {second}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
		sitetest.Expect(t, bob.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.ExpectEnrolled(t, bob.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
		sitetest.ExpectBody(t, bob.Get("/"), "Hello, bob!")

		// The previous release's invite: no newest recorded for carl.
		carl := sitetest.NewClient(t, "carl")
		ctok := carl.CSRF("/.smsgate/invite?token=" + oldToken)
		sitetest.Expect(t, carl.Post("/.smsgate/invite", url.Values{"token": {oldToken}, "csrf": {ctok}}), http.StatusSeeOther, "/.smsgate/enroll")
		sitetest.Expect(t, carl.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {ctok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.ExpectEnrolled(t, carl.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {ctok}}), "/")
		sitetest.ExpectBody(t, carl.Get("/"), "Hello, carl!")
	})
}
