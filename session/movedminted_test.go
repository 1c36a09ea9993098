package session

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAMovedInviteEndsWithTheTrustAndDeviceOfItsNewSession (attack39 F2),
// on Badger on disk and a real Redis: mal's invite, its entry in mallory's
// index in the previous release's form (its session's trust T1 and device
// D1, nothing more), moves with her browser to the session a step-up made
// (MoveMinted), which her list names with a trust T2 and a device D2 of
// its own. Then the end of T2 ("Stop trusting"), or the removal of D2,
// ends it, as the end of T1 or of D1 still does; another trust or device
// ends nothing. Before, the move kept T1 and D1 alone, and the end of the
// session's own trust or device missed the invite.
func TestAMovedInviteEndsWithTheTrustAndDeviceOfItsNewSession(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		d2 := "D2"
		for _, c := range []struct {
			what  string
			ends  func(endkeys.Minted) bool
			ended int
		}{
			{"the end of another trust", MintedIn("", "T3"), 0},
			{"the removal of another device", MintedOfDevice("D3", nil), 0},
			{"the end of the new session's trust", MintedIn("", "T2"), 1},
			{"the removal of the new session's device", MintedOfDevice("D2", nil), 1},
			{"the end of the old session's trust", MintedIn("", "T1"), 1},
			{"the removal of the old session's device", MintedOfDevice("D1", nil), 1},
			{"the removal of the new session's device, its undone adding", MintedOfUndone("D2"), 1},
		} {
			// As the previous release wrote them: the entry, and her list.
			previous := fmt.Sprintf(`[{"user":"mal","id":"mal-invite","expires":%q,"made":%q,"from":{"sid":"old","issued":%q,"trust":"T1","device":"D1"}}]`,
				now.Add(24*time.Hour).Format(time.RFC3339), now.Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339))
			if err := st.Put(ctx, endkeys.MintedInvites("r", "mallory"), []byte(previous), 24*time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, endkeys.LatestInvite("r", "mal"), []byte(`{"id":"mal-invite"}`), 24*time.Hour); err != nil {
				t.Fatal(err)
			}
			index, _ := json.Marshal([]Info{{SID: "new", Issued: now, Expires: now.Add(12 * time.Hour), Where: Where{Trust: "T2", Device: &d2}}})
			if err := st.Put(ctx, sessionsKey("r", "mallory"), index, 12*time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := MoveMinted(ctx, st, "r", "mallory", "old", "new", now); err != nil {
				t.Fatal(err)
			}
			got, err := EndMintedOf(ctx, st, "r", "mallory", now, nil, c.ends)
			if err != nil || got.Ended != c.ended {
				t.Errorf("%s ended %d invites (%v); want %d", c.what, got.Ended, err, c.ended)
			}
		}
	})
}
