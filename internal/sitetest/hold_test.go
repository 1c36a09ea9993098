package sitetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestTwoTestsHoldRulesStandSideBySide (review36b F5): the rules of two
// tests on one hold store (AddHold), each of its own user, both hold:
// each test's request is held where its own rule says, the other's op on
// its records passing by; a rule goes with the test that added it. Before,
// Holds.Park was one func, which the test file sorting last replaced.
func TestTwoTestsHoldRulesStandSideBySide(t *testing.T) {
	dir := t.TempDir()
	h := &HoldStore{Dir: dir, Store: storetest.Badger(t)}
	bg := context.Background()
	armed := func() bool { _, err := os.Stat(filepath.Join(dir, "arm")); return err == nil }
	get := func(key string) func() *Response {
		return func() *Response { _, _ = h.Get(bg, key); return nil }
	}
	put := func(key string) func() *Response {
		return func() *Response { _ = h.Put(bg, key, []byte("x"), 0); return nil }
	}
	t.Run("alice's test", func(t *testing.T) {
		AddHold(t, dir, Hold{Of: "alice", Op: "read", Key: "k/alice"})
		t.Run("bob's test", func(t *testing.T) {
			AddHold(t, dir, Hold{Of: "bob", Op: "write", Key: "k/*"})
			if err := os.WriteFile(filepath.Join(dir, "arm"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			get("k/bob")()
			put("k/alice")()
			if !armed() {
				t.Fatal("held at an op no rule names (a read of bob's, a write of alice's)")
			}
			Park(t, dir, put("k/bob")).Release(t) // bob's rule
			Park(t, dir, get("k/alice")).Release(t)
		})
		if err := os.WriteFile(filepath.Join(dir, "arm"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		put("k/bob")()
		if !armed() {
			t.Error("held by the rule of a test that ended")
		}
		Park(t, dir, get("k/alice")).Release(t)
	})
}

// TestAHoldStorePassesABatchWhole: a batch through a HoldStore goes whole
// to the store it holds (on Redis one pipeline, its writes under a guard
// in one script with the guard's checks: store.Do's path in production),
// and the request is held once the whole batch is done. Before, the hold
// store was no Batcher: each operation went alone through its methods (a
// round trip each on Redis), held right after the one a rule named, and
// the guard's batch path was never taken in a test through it.
func TestAHoldStorePassesABatchWhole(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, s store.Store) {
		dir := t.TempDir()
		h := &HoldStore{Dir: dir, Store: s}
		trips := &storetest.RoundTrips{}
		if r, ok := s.(*store.Redis); ok {
			r.Client().AddHook(trips)
		}
		bg := context.Background()
		AddHold(t, dir, Hold{Of: "carol", Op: "read", Key: "k/carol/a"})
		var b store.Batch
		b.Get("k/carol/a")
		b.Put("k/carol/b", []byte("b"), 0)
		b.Get("k/carol/c")
		held := Park(t, dir, func() *Response { _ = store.Do(bg, h, &b); return nil })
		if got, _ := s.Get(bg, "k/carol/b"); string(got) != "b" {
			t.Errorf("held before its batch's put was made (%q): the batch was split", got)
		}
		held.Release(t)
		var three store.Batch
		three.Get("k/dan/a")
		three.Put("k/dan/b", []byte("b"), 0)
		three.Get("k/dan/c")
		trips.N.Store(0)
		_ = store.Do(bg, h, &three)
		if _, ok := s.(*store.Redis); ok && trips.N.Load() != 1 {
			t.Errorf("a batch of three through the hold store: %d round trips, want 1 (its pipeline)", trips.N.Load())
		}

		// Under a guard whose record changed since: refused, as the store's own.
		var rb store.Batch
		read := rb.Get("ended/carol")
		_ = store.Do(bg, s, &rb)
		g := store.NewGuard(read)
		_ = s.Put(bg, "ended/carol", []byte("1"), 0)
		var wb store.Batch
		put := wb.Put("k/carol/d", []byte("d"), 0)
		_ = store.Do(store.Lasting(store.WithGuard(bg, g)), h, &wb)
		if got, _ := s.Get(bg, "k/carol/d"); !errors.Is(put.Err, store.ErrGuardBroken) || got != nil {
			t.Errorf("a guarded batch through the hold store, its record changed: %v, wrote %q", put.Err, got)
		}
	})
}
