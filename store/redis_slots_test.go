package store

import (
	"context"
	"strconv"
	"testing"
	"time"

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
	c, r := onReplicatedCluster(t)
	cluster := r.client.(*redis.ClusterClient)

	old, to := elsewhere(t, c, r, "a")
	if err := r.Put(Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write before the reshard: %v", err)
	}
	c.MoveSlot(slotOf(r.key("a")), to)
	if err := r.waitOnSlot(ctx, cluster, old, r.markerFor(r.key("a"))); err != nil {
		t.Fatalf("the wait at the slot's master as the map said before a reshard: %v", err)
	}

	_, to = elsewhere(t, c, r, "b")
	c.MoveSlot(slotOf(r.key("b")), to)
	if err := r.Put(Lasting(ctx), "b", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write to a slot moved since the map was read: %v", err)
	}
	if v, err := r.Get(ctx, "b"); err != nil || string(v) != "1" {
		t.Fatalf("the write: %q %v", v, err)
	}
}

// TestALastingWriteDuringASlotMigration: while a slot moves between
// masters (MIGRATING at the old, IMPORTING at the new, as a reshard
// leaves it until its keys are moved), the old master answers ASK for a
// key it no longer holds. go-redis follows ASK for the data's own
// commands and scripts, alone or in a pipeline; the lasting write's wait
// (a marker written then WAIT, at one master) must follow it too: at the
// new master (ASKING, the marker, WAIT) and at the old one, which may
// hold the written key still (a marker of a slot it keeps). Before, the
// marker's ASK was the write's error: a 503 for a write that was made.
// Three ways: a key and its marker new to the slot (both at the new
// master), a key the old master holds with its marker moved, and a batch
// of scripts (a window, a counter) on the moving slot. And a claim whose
// records the move split is made.
func TestALastingWriteDuringASlotMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, r := onReplicatedCluster(t)
	migrate := func(key string) *redistest.Migration {
		t.Helper()
		_, to := elsewhere(t, c, r, key)
		return c.Migrate(slotOf(r.key(key)), to)
	}
	lasting := func(what string, key, value string) {
		t.Helper()
		if err := r.Put(Lasting(ctx), key, []byte(value), 0); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if v, err := r.Get(ctx, key); err != nil || string(v) != value {
			t.Fatalf("%s: read back %q %v", what, v, err)
		}
	}

	migrate("new")
	lasting("a lasting write of a key new to a migrating slot", "new", "1")

	lasting("a lasting write before the migration", "held", "1")
	split := "{" + tagFor(slotOf(r.key("held"))) + "}" // keys in held's slot
	lasting("a record at the old master", split+"a", "before")
	migrate("held").Move(r.markerFor(r.key("held")))
	lasting("a lasting write of a key the old master holds, its marker moved", "held", "2")

	// A claim in one script (its records in one slot) whose records the
	// move split between the masters: the script is refused (TRYAGAIN),
	// and the claim is made in turn, as one over several slots is.
	lasting("a record new to the slot, at the new master", split+"b", "before")
	var reads Batch
	a, b2 := reads.Get(split+"a"), reads.Get(split+"b")
	if err := Do(ctx, r, &reads); err != nil {
		t.Fatal(err)
	}
	var claim Batch
	won := claim.Claim(Swap{Key: split + "a", Read: a, Value: []byte("after")}, Swap{Key: split + "b", Read: b2, Value: []byte("after")})
	if err := Do(ctx, r, &claim); err != nil || !won.OK {
		t.Fatalf("a claim of two records the move split: %v %v", won.OK, err)
	}
	for _, k := range []string{"a", "b"} {
		if v, err := r.Get(ctx, split+k); err != nil || string(v) != "after" {
			t.Fatalf("the claim's record %s: %q %v", k, v, err)
		}
	}

	tag := "{" + tagFor(slotOf(r.key("new"))) + "}" // keys in the moving slot
	var b Batch
	slid, n := b.Slide(tag+"w", "id", 3, time.Hour, time.Now()), b.Incr(tag+"n", time.Hour)
	if err := Do(Lasting(ctx), r, &b); err != nil || !slid.OK || n.N != 1 {
		t.Fatalf("a lasting batch of scripts on a migrating slot: %v %v %d", err, slid.OK, n.N)
	}
}

// onReplicatedCluster is a store (key prefix "test:") on a new Cluster of
// three masters with a replica each, closed at the test's end.
func onReplicatedCluster(t *testing.T) (*redistest.Cluster, *Redis) {
	t.Helper()
	c := redistest.StartReplicatedCluster(t)
	r := &Redis{Addresses: c.Masters, KeyPrefix: "test:"}
	_, closeStore, err := OpenRedis(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeStore() })
	return c, r
}

// elsewhere is the master of key's slot, as r's slot map says, and the
// address of another master of c.
func elsewhere(t *testing.T, c *redistest.Cluster, r *Redis, key string) (*redis.Client, string) {
	t.Helper()
	old, err := r.client.(*redis.ClusterClient).MasterForKey(context.Background(), r.key(key))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Masters {
		if m != old.Options().Addr {
			return old, m
		}
	}
	t.Fatal("a cluster of one master")
	return nil, ""
}

// searchTag is tagFor as it was: the first of 0, 1, 2, … whose slot is
// slot, searched for each slot on its own.
func searchTag(slot int) string {
	for i := 0; ; i++ {
		if tag := strconv.Itoa(i); slotOf(tag) == slot {
			return tag
		}
	}
}

// TestEachSlotKeepsItsTag: the table of tags (one pass at the first use)
// holds, for all 16,384 slots, the tag each slot's own search found: the
// first number whose digits hash there, found here with slotOf in one
// pass; searchTag itself for a few slots, the last one found among them
// (109,757), and four tags as the old search found them. A lasting
// write's marker keeps its name across an upgrade.
func TestEachSlotKeepsItsTag(t *testing.T) {
	t.Parallel()
	first, left := map[int]string{}, clusterSlots
	for i := 0; left > 0; i++ {
		if s := slotOf(strconv.Itoa(i)); first[s] == "" {
			first[s], left = strconv.Itoa(i), left-1
		}
	}
	for slot := range clusterSlots {
		if got := tagFor(slot); got != first[slot] {
			t.Fatalf("slot %d: tag %q, the first that hashes there is %q", slot, got, first[slot])
		}
	}
	for _, slot := range []int{0, 1, 16383, slotOf("109757")} {
		if got, was := tagFor(slot), searchTag(slot); got != was {
			t.Errorf("slot %d: tag %q, the search found %q", slot, got, was)
		}
	}
	// As the old search found them (and Redis's CRC16 check value).
	for slot, tag := range map[int]string{0: "3560", 1: "22179", 16383: "39296", slotOf("109757"): "109757"} {
		if got := tagFor(slot); got != tag {
			t.Errorf("slot %d: tag %q, was %q", slot, got, tag)
		}
	}
	if got := slotOf("123456789"); got != 0x31C3 {
		t.Errorf("slot of 123456789: %#x, Redis's CRC16 of it is 0x31C3", got)
	}
}

// BenchmarkTagFor: a slot's tag, the table made (once a process, at
// the first use of any slot) and once made. docs/BENCHMARKS.md compares
// them with the search of each slot (before).
func BenchmarkTagFor(b *testing.B) {
	b.Run("table-filled", func(b *testing.B) {
		for b.Loop() {
			fillSlotTags()
		}
	})
	b.Run("table", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			tagFor(i * 7919 % clusterSlots)
		}
	})
}
