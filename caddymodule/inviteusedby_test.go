package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnInviteUsedIsItsUsersAct: through a real Caddy, mal's use of the
// invite mallory minted at the console reads on the console's what
// happened as done by the user, and its audit line names the admin who
// minted it as minted_by; before, the line's "by" (review35 F6) made the
// row read "By: mallory", as if she had acted.
func TestAnInviteUsedIsItsUsersAct(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice", "mallory", "mal"}, "\t\tadmins alice mallory\n")
	addUser(t, s, "mallory", "+14155552671")
	thief := sitetest.NewClient(t, "mallory")
	signIn(t, s, thief)
	const malPage = "/.smsgate/admin/user?name=mal"
	form := url.Values{"action": {"invite"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(thief.Get(malPage).Text)[1]}}
	res := sitetest.ConsoleDone(t, thief.PostWith(malPage, form, map[string]string{"Origin": s.Base}), "invite")
	token := inviteLink.FindStringSubmatch(res.Text)[1]
	mal := sitetest.NewClient(t, "mal")
	tok := mal.CSRF("/.smsgate/invite?token=" + token)
	sitetest.Expect(t, mal.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")

	row := regexp.MustCompile(`data-kind="invite_used">[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>`)
	var by []string
	for range 50 {
		if by = row.FindStringSubmatch(thief.Get("/.smsgate/admin/events").Text); by != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if by == nil {
		t.Fatal("no invite_used row in the console's events")
	}
	if by[1] != "the user" {
		t.Errorf("mal's use of her invite reads as done by %q, want the user", by[1])
	}
	if used := s.LogEntries("invite_used"); len(used) != 1 || used[0]["minted_by"] != "mallory" || used[0]["by"] != nil {
		t.Errorf("invite_used's audit lines: %v, want one naming minted_by mallory and no by", used)
	}
}
