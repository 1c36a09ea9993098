package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAGuardedBatchIsGuardedAsAWriteAloneIs (review36b F1, guard37): a
// change whose lasting write is a batch (store.Do) under a guard whose
// record changed since it was read is refused (ErrGuardBroken) and writes
// none of the batch's writes, of each kind (Put, Delete, Take, Swap,
// PutIfAbsent, a claim), on Badger, a Redis server (the writes in one
// script with the guard's checks, in the batch's pipeline) and a Redis
// Cluster (each checked just before it, as a write alone); the guard is
// broken, and a batch after it refused at once. Unchanged, the batch is
// written and spends the guard: a batch after a revocation then follows.
// Made Preparing, a batch is checked and spends nothing. Before, a Redis
// server's DoBatch sent the writes unguarded.
func TestAGuardedBatchIsGuardedAsAWriteAloneIs(t *testing.T) {
	t.Parallel()
	stores := map[string]func(testing.TB) store.Store{"badger": storetest.Badger, "redis": storetest.Redis, "cluster": func(t testing.TB) store.Store {
		s, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: redistest.StartCluster(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeRedis() })
		return s
	}}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			guardedBatches(t, s, "", false)
			guardedBatches(t, s, "take-", true) // a Take's answer: on Redis, the writes one by one
		})
	}
}

// guardedBatches runs TestAGuardedBatchIsGuardedAsAWriteAloneIs's
// batches on s, their keys named after the case and within; take adds a
// Take to each.
func guardedBatches(t *testing.T, s store.Store, within string, take bool) {
	bg := context.Background()
	end := store.Key("revoked-user", "r", "alice")
	n := 0
	guard := func() *store.Guard {
		var b store.Batch
		read := b.Get(end)
		if err := store.Do(bg, s, &b); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return store.NewGuard(read)
	}
	lasting := func(g *store.Guard) context.Context { return store.Lasting(store.WithGuard(bg, g)) }
	revoke := func() {
		n++
		if err := s.Put(bg, end, []byte{byte(n)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	// batch adds to b a write of each kind to keys of its own (prefix),
	// on records put there first; ops are its writes.
	batch := func(prefix string) (*store.Batch, []*store.Op) {
		k := func(s string) string { return store.Key(within+prefix, s) }
		var reads store.Batch
		for _, key := range []string{"delete", "take", "swap", "claim-a", "claim-b"} {
			if err := s.Put(bg, k(key), []byte("old"), 0); err != nil {
				t.Fatal(err)
			}
		}
		swapRead, a, bb := reads.Get(k("swap")), reads.Get(k("claim-a")), reads.Get(k("claim-b"))
		if err := store.Do(bg, s, &reads); err != nil {
			t.Fatal(err)
		}
		var b store.Batch
		ops := []*store.Op{
			b.Put(k("put"), []byte("new"), 0),
			b.Delete(k("delete")),
			b.Swap(k("swap"), swapRead, []byte("new"), 0),
			b.PutIfAbsent(k("absent"), []byte("new"), 0),
			b.Claim(store.Swap{Key: k("claim-a"), Read: a, Value: []byte("new")}, store.Swap{Key: k("claim-b"), Read: bb, Value: []byte("new")}),
		}
		if take {
			ops = append(ops, b.Take(k("take")))
		}
		b.Get(k("unwritten")) // a read beside them
		return &b, ops
	}
	state := func(prefix string) string {
		out := ""
		for _, key := range []string{"put", "delete", "take", "swap", "absent", "claim-a", "claim-b"} {
			v, _ := s.Get(bg, store.Key(within+prefix, key))
			out += key + "=" + string(v) + " "
		}
		return out
	}
	untouched := "put= delete=old take=old swap=old absent= claim-a=old claim-b=old "
	written := "put=new delete= take=old swap=new absent=new claim-a=new claim-b=new "
	if take {
		written = strings.Replace(written, "take=old", "take=", 1)
	}

	// Changed between the read and the batch: refused, none written.
	g := guard()
	b, ops := batch("refused")
	revoke()
	_ = store.Do(lasting(g), s, b)
	for i, op := range ops {
		if !errors.Is(op.Err, store.ErrGuardBroken) || op.OK {
			t.Errorf("write %d of a batch whose guard's record changed: %v (ok %v), want ErrGuardBroken", i, op.Err, op.OK)
		}
	}
	if got := state("refused"); got != untouched || !g.Broken() {
		t.Errorf("a batch whose guard's record changed: broken %v, wrote\n%s\nwant\n%s", g.Broken(), got, untouched)
	}
	b, _ = batch("after-broken")
	_ = store.Do(lasting(g), s, b)
	if got := state("after-broken"); got != untouched {
		t.Errorf("a batch after its guard broke wrote:\n%s", got)
	}

	// Made Preparing: checked, not spent; the change after it is checked.
	g = guard()
	b, _ = batch("prepared")
	if err := store.Do(store.Preparing(lasting(g)), s, b); err != nil || state("prepared") != written || g.Broken() {
		t.Errorf("a preparing batch, its guard's record unchanged: %v (broken %v), wrote\n%s", err, g.Broken(), state("prepared"))
	}
	revoke()
	b, _ = batch("after-prepared")
	_ = store.Do(lasting(g), s, b)
	if got := state("after-prepared"); got != untouched || !g.Broken() {
		t.Errorf("a batch after a preparing one, the record changed between: broken %v, wrote\n%s", g.Broken(), got)
	}

	// Unchanged: written, the guard spent; what follows it is written.
	g = guard()
	b, _ = batch("held")
	if err := store.Do(lasting(g), s, b); err != nil || state("held") != written || g.Broken() {
		t.Errorf("a batch, its guard's record unchanged: %v (broken %v), wrote\n%s", err, g.Broken(), state("held"))
	}
	revoke()
	b, _ = batch("follows")
	if err := store.Do(lasting(g), s, b); err != nil || state("follows") != written {
		t.Errorf("a batch after its guard was spent: %v, wrote\n%s", err, state("follows"))
	}
}

// TestAGuardedBatchCostsItsRoundTrip: on a Redis server, a lasting batch
// under a guard (writes, a read) costs the round trips the batch
// unguarded costs (its pipeline, and its lasting wait): the guard's
// checks ride in the script that makes its writes. Counted with a hook
// on the client (as TestADevicesChangeRoundTrips counts).
func TestAGuardedBatchCostsItsRoundTrip(t *testing.T) {
	t.Parallel()
	s := storetest.Redis(t).(*store.Redis)
	count := &storetest.RoundTrips{}
	s.Client().AddHook(count)
	bg := context.Background()
	var unguarded int64
	// The first of each warms up: the lasting wait's first look at the
	// server, the script loaded (NOSCRIPT, then EVAL).
	for i, guarded := range []bool{false, true, false, true} {
		var rb store.Batch
		end := rb.Get(store.Key("revoked-user", "r", "bob"))
		if err := store.Do(bg, s, &rb); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		ctx := store.Lasting(bg)
		if guarded {
			ctx = store.WithGuard(ctx, store.NewGuard(end))
		}
		var b store.Batch
		b.Put(store.Key("change", "one"), []byte("x"), 0)
		b.Delete(store.Key("change", "two"))
		b.Get(store.Key("change", "three"))
		count.N.Store(0)
		if err := store.Do(ctx, s, &b); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		switch n := count.N.Load(); i {
		case 2:
			unguarded = n
		case 3:
			if n != unguarded {
				t.Errorf("a guarded batch took %d round trips, unguarded %d", n, unguarded)
			}
			t.Logf("a lasting batch: %d round trips, guarded or not", n)
		}
	}
}
