package session

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// trustAfterRead adds mallory's trust "late" to his trusted browsers just
// after the first read of them answers (end-unlisted's beginEnd): the
// trust appears between the end's read and its end.
type trustAfterRead struct {
	*failRevokeOnce
	t     *testing.T
	late  TrustedBrowser
	added atomic.Bool
}

func (s *trustAfterRead) Get(ctx context.Context, key string) ([]byte, error) {
	raw, err := s.failRevokeOnce.Get(ctx, key)
	if key != trustedKey("r", "mallory") || !s.added.CompareAndSwap(false, true) {
		return raw, err
	}
	var list []TrustedBrowser
	if err := json.Unmarshal(raw, &list); err != nil {
		s.t.Fatal(err)
	}
	more, _ := json.Marshal(append(slices.Clone(list), s.late))
	if err := s.failRevokeOnce.Store.Put(ctx, key, more, 24*time.Hour); err != nil {
		s.t.Fatal(err)
	}
	return raw, err
}

// TestATrustAppearingDuringEndUnlistedIsRecordedBeforeItEnds (rfix37's
// window (a), invites38): past MaxListed trusts, end-unlisted writes the
// trusts issued until Through in its record (beginEnd's read), then ends
// every trust issued until Through. A trust that appeared between (a
// sign-in issued before Through whose trust was written late, an
// instance's clock behind) was ended unrecorded: where the end then
// failed (its revocation's write), the retry read the record without it
// and did not pick the invite its later session minted, which stayed
// live. Now the end ends only the trusts its record names, reads again,
// and records and ends those that appeared. Failed without the fix
// (Ended [thief], the late trust's invite not picked), on Badger and
// Redis.
func TestATrustAppearingDuringEndUnlistedIsRecordedBeforeItEnds(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, inner store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		through := unlistedPastMaxListed(t, inner, now)
		late := TrustedBrowser{ID: "late", Browser: "Firefox", Created: through.Add(-time.Minute), Expires: now.Add(24 * time.Hour)}
		st := &trustAfterRead{failRevokeOnce: &failRevokeOnce{Store: inner, key: endkeys.User("r", "mallory")}, t: t, late: late}
		if _, err := EndUnlisted(ctx, st, "r", "mallory", now); err == nil {
			t.Fatal("the first end did not fail")
		}
		if !st.added.Load() {
			t.Fatal("the late trust was never added")
		}
		retriedEndPicks(t, st, now, through, "late")
		raw, err := inner.Get(ctx, trustedKey("r", "mallory"))
		if err == nil && len(raw) > 2 {
			t.Errorf("mallory's trusts after the end: %s; want none", raw)
		}
		if _, err := inner.Get(ctx, endkeys.Trust("r", "late")); err != nil {
			t.Errorf("the late trust's end: %v", err)
		}
	})
}
