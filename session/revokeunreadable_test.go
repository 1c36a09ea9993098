package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// An index that cannot be decoded stops no revoke: it is read as none
// (review30: the revoke failed on it and her session stayed live, until
// the index expired or she signed in again). Failed without revokeAll's
// readable (checked).
func TestAnUnreadableListStopsNoRevoke(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now()
		a := gateOn(t, st, &now)
		tok, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, sessionsKey("example.com", "alice"), []byte(`{"truncated`), time.Hour); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		if err := RevokeUser(ctx, st, "example.com", "alice", now, nil); err != nil {
			t.Errorf("the revoke: %v", err)
		}
		if a.Uncached(ctx, tok) != nil {
			t.Error("her session outlived the revoke")
		}
	})
}
