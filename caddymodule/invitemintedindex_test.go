package caddymodule_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnUnreadableMintedIndexBlocksNoEnd (review35 finding 2): the index
// of the invites an admin minted at the console, unreadable (mallory's,
// nora's), made her sign-out everywhere answer 503 though her sessions
// were revoked (no audit, her trust cookie kept), and nora's revoke answer
// an error, for as long as it lasted. Now each is logged (no token) and
// removed, and the end succeeds: mallory's sign-out everywhere is audited,
// nora's revoke answers 200, and mallory mints again at the console. On
// Badger and Redis, through a real Caddy.
func TestAnUnreadableMintedIndexBlocksNoEnd(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		for _, admin := range []string{"mallory", "nora"} {
			if err := st.Put(context.Background(), endkeys.MintedInvites("localhost", admin), []byte(`{"not":"a list"}`), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}

		s := textSite(t, storeLine, []string{"alice", "mallory", "nora", "mal"}, "\t\tadmins alice mallory nora\n")
		addUser(t, s, "mallory", "+14155552671")
		addUser(t, s, "nora", "+14155552672")
		owner := sitetest.NewClient(t, "mallory")
		signIn(t, s, owner)
		tok := owner.CSRF("/.smsgate/devices")
		res := owner.PostWith("/.smsgate/devices", url.Values{"action": {"signout-all"}, "confirm": {"1"}, "csrf": {tok}}, map[string]string{"Origin": s.Base})
		if res.StatusCode >= 400 || len(s.LogEntries("signed_out_everywhere")) != 1 {
			t.Errorf("mallory's sign-out everywhere on an unreadable index: %d, audit %v", res.StatusCode, s.LogEntries("signed_out_everywhere"))
		}
		if st, body := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"nora"}`); st != http.StatusOK || !strings.Contains(body, `"invites_ended":"0"`) {
			t.Errorf("nora's revoke on an unreadable index: %d %s", st, body)
		}
		if logged := s.LogEntries("an admin's index of the invites she minted could not be read: removed, the invites it named are not ended"); len(logged) != 2 {
			t.Errorf("the logs of the unreadable indexes: %v; want 2", logged)
		}
		s.Advance(5 * time.Second) // past her revocation's record: a sign-in now is not born ended
		again := sitetest.NewClient(t, "mallory")
		signIn(t, s, again)
		const malPage = "/.smsgate/admin/user?name=mal"
		form := url.Values{"action": {"invite"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(again.Get(malPage).Text)[1]}}
		if res := sitetest.ConsoleDone(t, again.PostWith(malPage, form, map[string]string{"Origin": s.Base}), "invite"); inviteLink.FindStringSubmatch(res.Text) == nil {
			t.Errorf("mallory's mint after the end: %d, no link", res.StatusCode)
		}
	})
}
