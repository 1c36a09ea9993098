package session

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnEndOfTheNewSessionRacingTheMoveEndsWhatMoved (logout39, close17
// Left 1 (b)), on Badger and a real Redis: mallory's browser's session
// minted mal's invite; her step-up there replaces it (Replaced: the
// invites move to the new session, the old is revoked) while an admin
// ends the new session as her list shows it (EndWith, its invites by
// MintedIn, as signin's EndSession). In every interleaving of the two's
// reads of her index of invites, mal's invite ends. (Before, an end that
// read the index before the move ended nothing, and the move then named
// the ended session: the link lived.)
func TestAnEndOfTheNewSessionRacingTheMoveEndsWhatMoved(t *testing.T) {
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il := &storetest.Interleaver{Store: st}
		m, err := NewManager(ctx, Config{Store: il, Realm: "r", Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		runs := 0
		held := il.Interleave(t, func() storetest.Pair {
			runs++
			admin, user := fmt.Sprint("mallory", runs), fmt.Sprint("mal", runs)
			oldTok, err := m.Issue(ctx, admin, []factor.AMR{factor.AMRSMS}, Where{Browser: "Edge"})
			if err != nil {
				t.Fatal(err)
			}
			old, err := m.Verify(oldTok)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			entry := endkeys.Minted{User: user, ID: "mal-invite", Expires: now.Add(time.Hour), Made: now, From: MintedFrom(old)}
			raw, _ := json.Marshal([]endkeys.Minted{entry})
			latest, _ := json.Marshal(map[string]string{"id": entry.ID})
			if err := st.Put(ctx, endkeys.MintedInvites("r", admin), raw, time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, endkeys.LatestInvite("r", user), latest, time.Hour); err != nil {
				t.Fatal(err)
			}
			newTok, err := m.Issue(ctx, admin, []factor.AMR{factor.AMRSMS}, Where{Browser: "Edge"})
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := m.Verify(newTok)
			if err != nil {
				t.Fatal(err)
			}
			return storetest.Pair{Key: endkeys.MintedInvites("r", admin),
				A: func(ctx context.Context) {
					_, err := EndWith(ctx, il, "r", admin, fresh.SID, time.Now(), func(s Info) error {
						_, err := EndMintedOf(ctx, il, "r", admin, time.Now(), nil, MintedIn(s.SID, s.Where.Trust))
						return err
					})
					if err != nil {
						t.Error(err)
					}
				},
				B: func(ctx context.Context) {
					if _, err := m.Replaced(ctx, oldTok, admin, fresh.SID); err != nil {
						t.Error(err)
					}
				},
				Check: func() {
					raw, err := st.Get(ctx, endkeys.LatestInvite("r", user))
					var l struct{ ID string }
					if err != nil || json.Unmarshal(raw, &l) != nil || l.ID != endkeys.Withdrawn {
						t.Errorf("run %d: mal's invite, minted in the browser whose session the admin ended, stands (%s, %v)", runs, raw, err)
					}
				},
			}
		})
		if held < 2 {
			t.Fatalf("held %d runs: nothing raced", held)
		}
	})
}
