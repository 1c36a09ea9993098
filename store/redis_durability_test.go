package store

import (
	"context"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestRedisDurabilityWarnings: a Redis that evicts keys, or keeps nothing
// on disk, is named in a warning at start — also where CONFIG is refused
// (INFO tells the eviction policy and AOF); one set up to keep everything
// is not.
func TestRedisDurabilityWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want []string // a warning containing each; none if empty
	}{
		{"kept", []string{"--appendonly", "yes"}, nil},
		{"snapshots", []string{"--save", "900 1"}, nil},
		{"evicts", []string{"--appendonly", "yes", "--maxmemory-policy", "allkeys-lru"}, []string{"maxmemory-policy allkeys-lru"}},
		{"volatile", []string{"--appendonly", "yes", "--maxmemory-policy", "volatile-lru"}, []string{"maxmemory-policy volatile-lru"}},
		{"nothing on disk", nil, []string{"keeps nothing on disk"}},
		{"config refused", []string{"--rename-command", "CONFIG", ""}, []string{"whether it takes RDB snapshots cannot be read"}},
		{"config refused, aof", []string{"--rename-command", "CONFIG", "", "--appendonly", "yes", "--maxmemory-policy", "allkeys-random"},
			[]string{"maxmemory-policy allkeys-random"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.StartWith(t, tc.args...)
			r := &Redis{Addresses: []string{srv.Addr}}
			if _, closeStore, err := OpenRedis(r); err != nil {
				t.Fatal(err)
			} else {
				defer closeStore()
			}
			got := r.durability(context.Background())
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q; want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q; want %q in it", got[i], w)
				}
			}
		})
	}
}

// TestRedisClusterDurability: every master of a cluster is asked.
func TestRedisClusterDurability(t *testing.T) {
	t.Parallel()
	nodes := redistest.StartCluster(t)
	r := &Redis{Addresses: nodes}
	_, closeStore, err := OpenRedis(r)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	got := r.durability(context.Background())
	if len(got) != 3 {
		t.Fatalf("a cluster of three masters without persistence: %q", got)
	}
	for _, w := range got {
		if !strings.Contains(w, "keeps nothing on disk") || !strings.Contains(w, "Redis node 127.0.0.1:") {
			t.Fatalf("a cluster node's warning: %q", w)
		}
	}
}
