package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// racedInvitee is the user whose record of her newest invite, once armed,
// holds the mint that wrote it (the test's sitetest.AddHold).
const racedInvitee = "ivo"

// TestTwoAdminsInvitingAtOnceAreToldWhichLinkWorks (review28, close11 item
// 3): two admins mint an invite for ivo at the same instant, the console's
// held once it has written the record naming its invite ivo's newest while
// the admin API's mints another, then the other way round. The mint whose
// record the other's replaced hands out no link: the console's page (409,
// no link) and the admin API's answer (409) say another invite for the user
// was made at the same moment (its link works if it was handed out); the
// other's link works. On Badger and Redis, through a real Caddy. (Before, both were
// handed a link and told only that earlier links no longer work: the one
// whose record was written first was dead.)
func TestTwoAdminsInvitingAtOnceAreToldWhichLinkWorks(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{"alice", racedInvitee}, "\t\tadmins alice\n")
		addUser(t, s, "alice", "+14155552670")
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		const console = "/.smsgate/admin/user?name=" + racedInvitee
		form := url.Values{"action": {"invite"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(alice.Get(console).Text)[1]}}
		inConsole := func() *sitetest.Response {
			res := alice.PostWith(console, form, map[string]string{"Origin": s.Base})
			if res.StatusCode == http.StatusSeeOther { // made: its link on the page the answer sends to
				res = sitetest.ConsoleDone(t, res, "invite")
			}
			return res
		}
		byAPI := func() (int, string) {
			return s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"`+racedInvitee+`"}`)
		}
		works := func(token string) bool {
			return sitetest.NewClient(t, racedInvitee).Get("/.smsgate/invite?token="+token).StatusCode == http.StatusOK
		}
		const said = "Another invite for this user was made at the same moment and replaced this one: no link was made here. The other invite's link works if it was handed out"

		// The console's mint held after its record; the API's meanwhile.
		sitetest.AddHold(t, dir, sitetest.Hold{Of: racedInvitee, Op: "write", Key: "invite-latest/localhost/" + racedInvitee})
		held := sitetest.Park(t, dir, inConsole)
		st, out := byAPI()
		var answer struct{ URL string }
		if err := json.Unmarshal([]byte(out), &answer); st != http.StatusOK || err != nil || !inviteLink.MatchString(answer.URL) {
			t.Fatalf("the admin API's invite while the console's was held: %d %s", st, out)
		}
		res := held.Release(t)
		if txt := visible(res.Text); res.StatusCode != http.StatusConflict || inviteLink.MatchString(res.Text) || !strings.Contains(txt, said) {
			t.Errorf("the console's invite the API's replaced meanwhile: %d, a link shown %v; want 409 saying %q: %q", res.StatusCode, inviteLink.MatchString(res.Text), said, txt)
		}
		if !works(inviteLink.FindStringSubmatch(answer.URL)[1]) {
			t.Error("the admin API's link, handed out, does not work")
		}

		// The API's mint held after its record; the console's meanwhile.
		done := make(chan struct{})
		held = sitetest.Park(t, dir, func() *sitetest.Response {
			defer close(done)
			st, out = byAPI()
			return nil
		})
		res = inConsole()
		m := inviteLink.FindStringSubmatch(res.Text)
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("the console's invite while the API's was held: %d, no link", res.StatusCode)
		}
		held.Release(t)
		<-done
		if st != http.StatusConflict || !strings.Contains(out, "Another invite for this user was made at the same moment") || strings.Contains(out, "token=") {
			t.Errorf("the admin API's invite the console's replaced meanwhile: %d %s; want 409 saying so, no link", st, out)
		}
		if !works(m[1]) {
			t.Error("the console's link, handed out, does not work")
		}
	})
}
