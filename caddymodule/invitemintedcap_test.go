package caddymodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAFullIndexOfReplacedInvitesRefusesNoMint (review35 finding 3): the
// cap of endkeys.MaxMinted invites an admin holds open counted every
// invite she minted and not yet expired, even one replaced by a newer one
// for its user (walt's invite sent again 500 times: one live link), and
// her next console mint, for anyone, was refused, saying "wait until some
// are used", untrue. Now at the cap the closed leave it, and her mint for
// xena hands out its link. On Badger and Redis, through a real Caddy.
func TestAFullIndexOfReplacedInvitesRefusesNoMint(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		ctx, now, week := context.Background(), time.Now(), 7*24*time.Hour
		list := make([]endkeys.Minted, endkeys.MaxMinted) // walt's invite, minted again and again
		for i := range list {
			list[i] = endkeys.Minted{User: "walt", ID: fmt.Sprint("replaced", i), Made: now, Expires: now.Add(week)}
		}
		raw, _ := json.Marshal(list)
		if err := st.Put(ctx, endkeys.MintedInvites("localhost", "mallory"), raw, week); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, endkeys.LatestInvite("localhost", "walt"), []byte(`{"id":"hisnewest"}`), week); err != nil {
			t.Fatal(err)
		}
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}

		s := textSite(t, storeLine, []string{"mallory", "walt", "xena"}, "\t\tadmins mallory\n")
		addUser(t, s, "mallory", "+14155552671")
		admin := sitetest.NewClient(t, "mallory")
		signIn(t, s, admin)
		const xenaPage = "/.smsgate/admin/user?name=xena"
		form := url.Values{"action": {"invite"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(admin.Get(xenaPage).Text)[1]}}
		res := admin.PostWith(xenaPage, form, map[string]string{"Origin": s.Base})
		if res.StatusCode == http.StatusSeeOther {
			res = sitetest.ConsoleDone(t, res, "invite")
		}
		if inviteLink.FindStringSubmatch(res.Text) == nil || strings.Contains(res.Text, "too many open invites") {
			t.Errorf("her mint for xena, %d of hers replaced: %d\n%.600s", endkeys.MaxMinted, res.StatusCode, res.Text)
		}
	})
}
