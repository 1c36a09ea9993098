package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestReview36bAGuardedBatchIsGuardedOnEveryStore (review36b F1): a
// lasting write made through store.Do under a guard whose record changed
// since it was read is refused (ErrGuardBroken, nothing written). On
// Badger the batch runs through the store's own methods; on Redis (a
// Batcher: DoBatch, one pipeline) it was written, unguarded, until
// guard37 made its writes one script with the guard's checks
// (guardBatch; TestAGuardedBatchIsGuardedAsAWriteAloneIs covers every
// kind of write, a Cluster too).
func TestReview36bAGuardedBatchIsGuardedOnEveryStore(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, s store.Store) {
		bg := context.Background()
		end := store.Key("revoked-user", "r", "alice")
		var rb store.Batch
		read := rb.Get(end)
		if err := store.Do(bg, s, &rb); err != nil {
			t.Fatal(err)
		}
		g := store.NewGuard(read)
		ctx := store.Lasting(store.WithGuard(bg, g))
		if err := s.Put(bg, end, []byte("revoked"), 0); err != nil { // between the read and the write
			t.Fatal(err)
		}
		var b store.Batch
		put := b.Put(store.Key("change", "batch"), []byte("new"), 0)
		_ = store.Do(ctx, s, &b)
		got, _ := s.Get(bg, store.Key("change", "batch"))
		if !errors.Is(put.Err, store.ErrGuardBroken) || got != nil {
			t.Errorf("a guarded batch's Put after the guard's record changed: err %v, wrote %q, broken %v; want ErrGuardBroken and nothing written", put.Err, got, g.Broken())
		}
	})
}
