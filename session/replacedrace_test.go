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

// TestAMintInFlightInAReplacedSessionGoesWithItsBrowser (logout39, close17
// Left 1 (a)), on Badger and a real Redis: mallory's step-up replaces her
// browser's session (Replaced: its invites moved to the new one, then it
// is revoked) while a console mint in the old session is in flight (its
// entry written, then its session's Live check: the link is handed out
// only where it is live). In every interleaving of the two's reads of the
// old session's revocation record: a link handed out is named by the new
// session in her index, so the admin's end of the session her list shows
// ends it. (Before, a mint written between the move and the revocation,
// its check passing, named the old session only.)
func TestAMintInFlightInAReplacedSessionGoesWithItsBrowser(t *testing.T) {
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
			admin := fmt.Sprint("mallory", runs)
			oldTok, err := m.Issue(ctx, admin, []factor.AMR{factor.AMRSMS}, Where{Browser: "Edge"})
			if err != nil {
				t.Fatal(err)
			}
			old, err := m.Verify(oldTok)
			if err != nil {
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
			handedOut := false
			return storetest.Pair{Key: endkeys.Session("r", old.SID),
				A: func(ctx context.Context) {
					if _, err := m.Replaced(ctx, oldTok, admin, fresh.SID); err != nil {
						t.Error(err)
					}
				},
				B: func(ctx context.Context) {
					now := time.Now()
					entry := endkeys.Minted{User: "mal", ID: "mal-invite", Expires: now.Add(time.Hour), Made: now, From: MintedFrom(old)}
					err := il.Update(ctx, endkeys.MintedInvites("r", admin), func(raw []byte, found bool) ([]byte, time.Duration, error) {
						var list []endkeys.Minted
						if found {
							_ = json.Unmarshal(raw, &list)
						}
						raw, err := json.Marshal(append(list, entry))
						return raw, time.Hour, err
					})
					if err != nil {
						t.Error(err)
						return
					}
					live, err := m.Live(ctx, old)
					handedOut = err == nil && live
				},
				Check: func() {
					raw, err := st.Get(ctx, endkeys.MintedInvites("r", admin))
					var list []endkeys.Minted
					if err != nil || json.Unmarshal(raw, &list) != nil || len(list) != 1 {
						t.Fatalf("her index: %s, %v", raw, err)
					}
					if handedOut && list[0].From.SID != fresh.SID {
						t.Errorf("run %d: a link handed out in the replaced session is named by it (%s), not by the new session: the end of the session her list shows leaves it", runs, list[0].From.SID)
					}
				},
			}
		})
		if held < 2 {
			t.Fatalf("held %d runs: nothing raced", held)
		}
	})
}
