package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestABatchPutsIfAbsent: a batch's PutIfAbsent writes only where the key
// holds no record, and says whether it wrote, as Store.PutIfAbsent does,
// on Badger and Redis, in a Redis pipeline and one operation after
// another; with the ttl given.
func TestABatchPutsIfAbsent(t *testing.T) {
	t.Parallel()
	onCounterStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		held, free := store.Key("absent", "held"), store.Key("absent", "free")
		if err := s.Put(ctx, held, []byte("bob"), 0); err != nil {
			t.Fatal(err)
		}
		var b store.Batch
		a, c := b.PutIfAbsent(held, []byte("alice"), 0), b.PutIfAbsent(free, []byte("alice"), time.Hour)
		if err := store.Do(ctx, s, &b); err != nil {
			t.Fatal(err)
		}
		if a.OK || !c.OK || a.Err != nil || c.Err != nil {
			t.Errorf("put if absent: over a record %v (%v), where none %v (%v); want false, true", a.OK, a.Err, c.OK, c.Err)
		}
		for key, want := range map[string]string{held: "bob", free: "alice"} {
			if got, err := s.Get(ctx, key); err != nil || string(got) != want {
				t.Errorf("%s holds %q, %v; want %q", key, got, err, want)
			}
		}
		if e, ok := s.(store.Expiring); ok {
			_ = e.ScanExpiring(ctx, free, func(_ string, _ []byte, expires time.Time) error {
				if left := time.Until(expires); left <= 0 || left > time.Hour {
					t.Errorf("%s expires in %v, want within the hour", free, left)
				}
				return nil
			})
		}
	})
}
