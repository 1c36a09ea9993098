package enrollment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAMintThatDiedPendingLeavesTheCap (minted37): vera's index is full
// of entries pending, as mints that died (the process stopped) between
// writing their entry and their invite left it. Within the grace a mint
// may still be alive: they count, and her next mint is refused. Past it,
// those whose invite was never written leave at her next mint; u0's,
// whose mint wrote its invite and named it u0's newest before it died
// (its link may be out), and u1's, written and taken since (its flow is
// open, and ends with her), stay. Before, every one counted until it
// expired (a week here, up to 30 days). On Badger and Redis.
func TestAMintThatDiedPendingLeavesTheCap(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now()
		_, _, adm := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return now }}, enrollment.Challenges{})
		const week = 7 * 24 * time.Hour
		made := now.Add(-time.Minute)
		list := make([]endkeys.Minted, endkeys.MaxMinted)
		for i := range list {
			list[i] = endkeys.Minted{User: fmt.Sprint("u", i), ID: fmt.Sprint("id", i), Made: made, Expires: made.Add(week), Pending: true}
		}
		raw, _ := json.Marshal(list)
		puts := map[string]string{
			endkeys.MintedInvites("r", "vera"): string(raw),
			store.Key("invite", "r", "id0"):    fmt.Sprintf(`{"user":"u0","expires":%q}`, made.Add(week).Format(time.RFC3339Nano)),
			endkeys.LatestInvite("r", "u0"):    `{"id":"id0"}`,
			endkeys.LatestInvite("r", "u1"):    `{"id":"id1"}`,
		}
		for k, v := range puts {
			if err := st.Put(ctx, k, []byte(v), week); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := adm.NewInviteBy(ctx, "r", "zed", "vera", week); !errors.Is(err, enrollment.ErrTooManyMinted) {
			t.Fatalf("her mint with %d pending a minute: %v; want ErrTooManyMinted (a mint may be alive)", endkeys.MaxMinted, err)
		}
		now = now.Add(time.Hour)
		if _, err := adm.NewInviteBy(ctx, "r", "zed", "vera", week); err != nil {
			t.Fatalf("her mint with %d pending an hour and a minute, their invites never written but u0's and u1's: %v", endkeys.MaxMinted, err)
		}
		raw, err := st.Get(ctx, endkeys.MintedInvites("r", "vera"))
		var left []endkeys.Minted
		if err == nil {
			err = json.Unmarshal(raw, &left)
		}
		if err != nil {
			t.Fatal(err)
		}
		users := []string{}
		for _, m := range left {
			users = append(users, m.User)
		}
		slices.Sort(users)
		if !slices.Equal(users, []string{"u0", "u1", "zed"}) {
			t.Errorf("her index after the mint: %d entries %.60v; want u0's (its invite written), u1's (taken) and zed's", len(users), users)
		}
	})
}
