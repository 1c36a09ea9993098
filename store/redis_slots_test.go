package store

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestALastingWriteAfterAReshard: a lasting write's marker goes to the
// master of the written key's slot as the client's slot map says, and a
// reshard since the map was read (a slot moved to another master) makes
// the old master answer MOVED. The map is read again and the wait goes to
// the slot's master now, inside the call. Before, the write was an error
// (a 503 to the user, who had to try again). Once through the wait itself
// with the map as it was before the move (the race with go-redis's own
// reading of the map after the data's MOVED decided the end-to-end case),
// then through the store.
func TestALastingWriteAfterAReshard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.StartReplicatedCluster(t)
	r := &Redis{Addresses: c.Masters, KeyPrefix: "test:"}
	if _, closeStore, err := OpenRedis(r); err != nil {
		t.Fatal(err)
	} else {
		defer closeStore()
	}
	cluster := r.client.(*redis.ClusterClient)
	elsewhere := func(key string) (*redis.Client, string) {
		t.Helper()
		old, err := cluster.MasterForKey(ctx, r.key(key))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range c.Masters {
			if m != old.Options().Addr {
				return old, m
			}
		}
		panic("a cluster of one master")
	}

	old, to := elsewhere("a")
	if err := r.Put(Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write before the reshard: %v", err)
	}
	c.MoveSlot(slotOf(r.key("a")), to)
	if err := r.waitOnSlot(ctx, cluster, old, r.markerFor(r.key("a"))); err != nil {
		t.Fatalf("the wait at the slot's master as the map said before a reshard: %v", err)
	}

	_, to = elsewhere("b")
	c.MoveSlot(slotOf(r.key("b")), to)
	if err := r.Put(Lasting(ctx), "b", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write to a slot moved since the map was read: %v", err)
	}
	if v, err := r.Get(ctx, "b"); err != nil || string(v) != "1" {
		t.Fatalf("the write: %q %v", v, err)
	}
}
