package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// expiringStores open each store that says when its records end: Badger,
// a Redis server and a Redis Cluster.
var expiringStores = map[string]func(t *testing.T) (store.Store, func() error, error){
	"badger": func(t *testing.T) (store.Store, func() error, error) { return store.OpenBadger(t.TempDir()) },
	"redis": func(t *testing.T) (store.Store, func() error, error) {
		return store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(t)}, KeyPrefix: "p:"})
	},
	"cluster": func(t *testing.T) (store.Store, func() error, error) {
		return store.OpenRedis(&store.Redis{Addresses: redistest.StartCluster(t), KeyPrefix: "p:"})
	},
}

// expiresAsWritten reports whether at, an expiry a store's scan read
// back, is a record's written to last ttl by writes begun at from, the
// read back ending by to. An expiry is real time, so it is bracketed by
// the two readings of the clock, not held to a fixed margin of time.Until
// that a slow run outlasts: Badger keeps whole seconds (a second sooner at
// most), Redis's read back is asked+PTTL (sooner by as much as the read
// took: to-from bounds it), neither is ever later than written.
func expiresAsWritten(at time.Time, ttl time.Duration, from, to time.Time) bool {
	return !at.Before(from.Add(ttl-to.Sub(from)-time.Second)) && !at.After(to.Add(ttl))
}

// TestKeepLongerNeverMakesARecordEndSooner: store.KeepLonger writes a
// record where there is none, makes one ending sooner last its time (its
// value kept), and leaves one ending as late or later, or never, as it is;
// with no expiry, it makes one never end. On Badger, a Redis server and a
// Redis Cluster.
func TestKeepLongerNeverMakesARecordEndSooner(t *testing.T) {
	t.Parallel()
	const hour, none = time.Hour, time.Duration(0)
	cases := []struct {
		name      string
		held, ttl time.Duration // held -1: no record
		wrote     bool
		value     string
		ends      time.Duration // 0: never
	}{
		{"none", -1, hour, true, "new", hour},
		{"none, no expiry", -1, none, true, "new", none},
		{"sooner", hour, 2 * hour, true, "held", 2 * hour},
		{"later", 2 * hour, hour, false, "held", 2 * hour},
		{"never", none, hour, false, "held", none},
		{"sooner, made never", hour, none, true, "held", none},
	}
	for name, open := range expiringStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, closeStore, err := open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = closeStore() }()
			ctx := context.Background()
			for i, c := range cases {
				key := fmt.Sprintf("longer/k%d", i)
				from := time.Now()
				if c.held >= 0 {
					if err := st.Put(ctx, key, []byte("held"), c.held); err != nil {
						t.Fatal(err)
					}
				}
				wrote, err := store.KeepLonger(ctx, st, key, []byte("new"), c.ttl)
				if err != nil || wrote != c.wrote {
					t.Errorf("%s: wrote %v (%v), want %v", c.name, wrote, err, c.wrote)
				}
				var value []byte
				var expires time.Time
				err = st.(store.Expiring).ScanExpiring(ctx, key, func(_ string, v []byte, at time.Time) error {
					value, expires = v, at
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if string(value) != c.value || expires.IsZero() != (c.ends == 0) || c.ends > 0 && !expiresAsWritten(expires, c.ends, from, time.Now()) {
					t.Errorf("%s: %q ending %v after the writes, want %q ending in %v (0: never)", c.name, value, expires.Sub(from).Round(time.Second), c.value, c.ends)
				}
			}
		})
	}
}

// TestAScanSaysWhenRecordsExpire: Expiring's scan gives each record under
// the prefix with its expiry (zero for none), on Badger, a Redis server
// and a Redis Cluster (its keys on every master), and leaves out others'.
func TestAScanSaysWhenRecordsExpire(t *testing.T) {
	t.Parallel()
	for name, open := range expiringStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, closeStore, err := open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = closeStore() }()
			ctx := context.Background()
			want := map[string]time.Duration{}
			from := time.Now()
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
			to := time.Now()
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
				case ttl > 0 && !expiresAsWritten(at, ttl, from, to):
					t.Errorf("%s expires in %v, the scan says %v after the writes began", key, ttl, at.Sub(from).Round(time.Second))
				}
			}
		})
	}
}
