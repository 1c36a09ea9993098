package caddymodule_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAUsedInviteIsNotCountedAsEnded (review35 finding 1): a thief holding
// the admin account of mallory mints, at the console, an invite for mal,
// and mal enrolls by it; the revoke of mallory answers (and audits) no
// invite ended (before, 1: mal's newest-invite record still named it, and
// it was written "withdrawn" and counted), and names mal among the users
// who used an invite of hers: the account an admin must look at. On Badger
// and Redis, through a real Caddy. mal's name has a comma in it ("mal,doe":
// a name is the first factor's, any string): the answer's and the audit's
// invites_used are lists of one name (before resid38, the answer one
// string "mal,doe", and the audit ["mal" "doe"], two accounts that are not).
func TestAUsedInviteIsNotCountedAsEnded(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice", "mallory", "mal,doe"}, "\t\tadmins alice mallory\n")
		addUser(t, s, "mallory", "+14155552671")
		thief := sitetest.NewClient(t, "mallory")
		signIn(t, s, thief)
		const malPage = "/.smsgate/admin/user?name=mal%2Cdoe"
		form := url.Values{"action": {"invite"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(thief.Get(malPage).Text)[1]}}
		res := sitetest.ConsoleDone(t, thief.PostWith(malPage, form, map[string]string{"Origin": s.Base}), "invite")
		token := inviteLink.FindStringSubmatch(res.Text)[1]
		mal := sitetest.NewClient(t, "mal,doe")
		tok := mal.CSRF("/.smsgate/invite?token=" + token)
		sitetest.Expect(t, mal.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
		sitetest.Expect(t, mal.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552679"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		mal.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
		if _, users := s.Admin("GET", "/smsgate/users?realm=localhost", ""); !strings.Contains(users, `"user":"mal,doe"`) {
			t.Fatalf("mal did not enroll: %s", users)
		}
		st, body := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"mallory"}`)
		if st != http.StatusOK || !strings.Contains(body, `"invites_ended":"0"`) || !strings.Contains(body, `"invites_used":["mal,doe"]`) {
			t.Errorf("the revoke of mallory, whose one invite mal used to enroll: %d %s; want invites_ended 0, invites_used [mal,doe]", st, body)
		}
		if ends := s.LogEntries("admin_revoke"); len(ends) != 1 || ends[0]["invites_ended"] != float64(0) || !slices.Equal(anyStrings(ends[0]["invites_used"]), []string{"mal,doe"}) {
			t.Errorf("the audit of the revoke: %v; want invites_ended 0, invites_used [mal,doe]", ends)
		}
	})
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
