package caddymodule_test

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestARevokedAdminsInvitesEndWithHer (attack34b): a thief holding the
// admin account of mallory mints, at the console of a site whose
// enrollment is closed, an invite for a name of his, mal; the real admin,
// alice, then revokes mallory (the console's sign-out everywhere of her),
// or resets her, or mallory's owner signs out everywhere herself. mal's
// link is then refused, at its GET and its POST, with words saying an
// administrator ended it (not "expired or was already used"), and enrolls
// nothing: "Hello, mal!" is never answered. The end's audit event names
// how many it ended, and the log holds no token. An invite the admin API
// minted (no admin named) is not ended so. On Badger and Redis, through a
// real Caddy. (Before, the invite outlived her account, and mal enrolled.)
func TestARevokedAdminsInvitesEndWithHer(t *testing.T) {
	sitetest.Parallel(t)
	for _, how := range []string{"revoke", "reset", "signout-all"} {
		t.Run(how, func(t *testing.T) {
			sitetest.Parallel(t)
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
				s := textSite(t, storeLine, []string{"alice", "mallory", "mal", "ned"}, "\t\tadmins alice mallory\n")
				addUser(t, s, "alice", "+14155552670")
				addUser(t, s, "mallory", "+14155552671")

				// The thief, signed in as mallory, mints mal's invite.
				thief := sitetest.NewClient(t, "mallory")
				signIn(t, s, thief)
				const malPage = "/.smsgate/admin/user?name=mal"
				form := url.Values{"action": {"invite"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(thief.Get(malPage).Text)[1]}}
				res := sitetest.ConsoleDone(t, thief.PostWith(malPage, form, map[string]string{"Origin": s.Base}), "invite")
				m := inviteLink.FindStringSubmatch(res.Text)
				if res.StatusCode != http.StatusOK || m == nil {
					t.Fatalf("mallory's invite for mal: %d, no link", res.StatusCode)
				}
				token := m[1]
				sitetest.ExpectBody(t, res, "This link is tied to your account, mallory: it stops working if your account is reset or signed out everywhere before mal uses it.")
				mal := sitetest.NewClient(t, "mal")
				tok := mal.CSRF("/.smsgate/invite?token=" + token) // mal opens it (a GET burns nothing), and waits
				// ned's invite, minted by the admin API: nobody's to end.
				st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"ned","ttl":"1h"}`)
				if st != http.StatusOK {
					t.Fatalf("ned's invite: %d %s", st, body)
				}
				nedToken := regexp.MustCompile(`token=([A-Za-z0-9]+)`).FindStringSubmatch(body)[1]

				// Her account ends.
				event := "admin_" + how
				if how == "signout-all" {
					event = "signed_out_everywhere"
					owner := sitetest.NewClient(t, "mallory")
					signIn(t, s, owner)
					tok := owner.CSRF("/.smsgate/devices")
					res := owner.PostWith("/.smsgate/devices", url.Values{"action": {"signout-all"}, "confirm": {"1"}, "csrf": {tok}}, map[string]string{"Origin": s.Base})
					if res.StatusCode >= 400 {
						t.Fatalf("mallory's sign-out everywhere: %d\n%s", res.StatusCode, res.Text)
					}
				} else {
					alice := sitetest.NewClient(t, "alice")
					signIn(t, s, alice)
					const malloryPage = "/.smsgate/admin/user?name=mallory"
					f := url.Values{"action": {how}, "confirm": {"1"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(alice.Get(malloryPage).Text)[1]}}
					sitetest.ConsoleDone(t, alice.PostWith(malloryPage, f, map[string]string{"Origin": s.Base}), how)
				}
				if ends := s.LogEntries(event); len(ends) != 1 || ends[0]["invites_ended"] != float64(1) {
					t.Errorf("the audit of the end: %v; want one naming invites_ended 1", ends)
				}

				// mal's link is refused, and enrolls nothing.
				const ended = "This invite was ended by an administrator"
				page := mal.Get("/.smsgate/invite?token=" + token)
				if page.StatusCode != http.StatusBadRequest || !strings.Contains(page.Text, ended) || strings.Contains(page.Text, "expired or was already used") {
					t.Errorf("mal's link after mallory's %s: %d\n%s", how, page.StatusCode, page.Text)
				}
				res = mal.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}})
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, ended) {
					t.Errorf("mal's link taken after mallory's %s: %d %s\n%s", how, res.StatusCode, res.Header.Get("Location"), res.Text)
				}
				sent := s.Sent()
				if mal.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552679"}, "csrf": {tok}}); s.Sent() != sent {
					mal.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
				}
				if got := mal.Get("/"); strings.Contains(got.Text, "Hello, mal!") {
					t.Errorf("mal enrolled by the invite of mallory's, after her %s", how)
				}
				if _, users := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(users, `"user":"mal"`) {
					t.Errorf("mal holds a phone: %s", users)
				}

				// ned's, the admin API's, still works.
				ned := sitetest.NewClient(t, "ned")
				ntok := ned.CSRF("/.smsgate/invite?token=" + nedToken)
				sitetest.Expect(t, ned.Post("/.smsgate/invite", url.Values{"token": {nedToken}, "csrf": {ntok}}), http.StatusSeeOther, "/.smsgate/enroll")
				if used := s.LogEntries("invite_used"); len(used) != 1 || used[0]["user"] != "ned" || used[0]["minted_by"] != nil {
					t.Errorf("the audit of ned's invite used: %v; want one naming no admin", used)
				}

				logged, err := os.ReadFile(s.LogFile)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(logged), token) || strings.Contains(string(logged), nedToken) {
					t.Error("Caddy's log holds an invite's token")
				}
			})
		})
	}
}
