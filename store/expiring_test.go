package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAScanSaysWhenRecordsExpire: Expiring's scan gives each record under
// the prefix with its expiry (zero for none), on Badger, a Redis server
// and a Redis Cluster (its keys on every master), and leaves out others'.
func TestAScanSaysWhenRecordsExpire(t *testing.T) {
	t.Parallel()
	open := map[string]func(t *testing.T) (store.Store, func() error, error){
		"badger": func(t *testing.T) (store.Store, func() error, error) { return store.OpenBadger(t.TempDir()) },
		"redis": func(t *testing.T) (store.Store, func() error, error) {
			return store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(t)}, KeyPrefix: "p:"})
		},
		"cluster": func(t *testing.T) (store.Store, func() error, error) {
			return store.OpenRedis(&store.Redis{Addresses: redistest.StartCluster(t), KeyPrefix: "p:"})
		},
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, closeStore, err := open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = closeStore() }()
			ctx := context.Background()
			want := map[string]time.Duration{}
			for i := range 20 { // keys in many slots
				key, ttl := fmt.Sprintf("ends/k%d", i), time.Duration(i)*time.Hour
				if err := st.Put(ctx, key, []byte{1}, ttl); err != nil {
					t.Fatal(err)
				}
				want[key] = ttl
			}
			if err := st.Put(ctx, "endsx/other", []byte{1}, time.Hour); err != nil {
				t.Fatal(err)
			}
			got := map[string]time.Time{}
			err = st.(store.Expiring).ScanExpiring(ctx, "ends/", func(key string, value []byte, expires time.Time) error {
				got[key] = expires
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("the scan gave %d records, not %d: %v", len(got), len(want), got)
			}
			for key, ttl := range want {
				at, ok := got[key]
				switch {
				case !ok:
					t.Errorf("%s: not in the scan", key)
				case ttl == 0 && !at.IsZero():
					t.Errorf("%s has no expiry, the scan says %v", key, at)
				case ttl > 0 && (time.Until(at) > ttl || time.Until(at) < ttl-3*time.Second):
					t.Errorf("%s expires in %v, the scan says in %v", key, ttl, time.Until(at))
				}
			}
		})
	}
}
