package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// A revoke whose newest pushed-off session was signed by a gate an hour
// ahead writes its record at most Leeway past its own clock (review30: it
// wrote it an hour ahead, and every sign-in of hers at a gate on time for
// that hour was born ended). Failed without revokeAll's cap (checked).
func TestARevokeMovesItsRecordAtMostLeewayAhead(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		real := time.Now()
		ahead := real.Add(time.Hour)
		a := gateOn(t, st, &ahead)
		b := gateOn(t, st, &real)
		for range MaxListed + 1 { // the first is pushed off her list
			if _, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := RevokeUser(ctx, st, "example.com", "alice", real, nil); err != nil {
			t.Fatal(err)
		}
		var batch store.Batch
		at := ReadRevoked(&batch, "example.com", "alice")
		_ = store.Do(ctx, st, &batch)
		if got, err := at(); err != nil || got.After(real.Add(Leeway)) {
			t.Errorf("the revocation record says %v after the revoke's clock (%v); want at most Leeway (%v)", got.Sub(real), err, Leeway)
		}
		real = real.Add(time.Minute)
		tok, err := b.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Uncached(ctx, tok) == nil {
			t.Error("alice's sign-in a minute after the revoke, at an on-time gate, is born ended")
		}
	})
}
