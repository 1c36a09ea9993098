package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestStillKnownInTheStoresEpoch: a known-browser cookie counts only if it
// was issued in the store's epoch (its record's Created, to the second a
// token keeps): one from before a wipe (the record made anew), or read
// while the record is gone (the store has just forgotten), is a
// stranger's, whatever the store no longer says about it.
func TestStillKnownInTheStoresEpoch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	_, st := newManager(t, "HS256", &now)
	known := knownIn(t, st)
	if known(now) {
		t.Fatal("known with no epoch record (a store that has just forgotten)")
	}
	epoch := func(created time.Time) {
		t.Helper()
		w, _, err := continuity.Open(ctx, st, continuity.Options{Now: func() time.Time { return created }})
		if err != nil || w == nil {
			t.Fatal(err)
		}
	}
	epoch(now.Add(500 * time.Millisecond))
	if !known(now) || !known(now.Add(time.Hour)) {
		t.Fatal("a cookie of the store's epoch (issued in its first second, or after) is not known")
	}
	if known(now.Add(-time.Second)) {
		t.Fatal("a cookie from before the store's epoch is known")
	}
	// A wipe: the record made anew later.
	if err := st.Delete(ctx, continuity.Key); err != nil {
		t.Fatal(err)
	}
	epoch(now.Add(2 * time.Hour))
	if known(now.Add(time.Hour)) {
		t.Fatal("a cookie from before the wipe is known")
	}
}

// knownIn says whether alice's browser, signed in session S1 at issued, is
// still known in st.
func knownIn(t *testing.T, st store.Store) func(issued time.Time) bool {
	return func(issued time.Time) bool {
		t.Helper()
		ok, err := StillKnown(context.Background(), st, "example.com", "alice", "S1", "", "", issued)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
}

// TestStillKnownNotAcrossAnEviction: a store that evicted keys (Redis
// under maxmemory) is frozen in its epoch, the record keeping its
// creation, and the evicted keys may be a user's revocation or the
// admin's end of a session: a cookie issued before the freeze is a
// stranger's, one issued since it counts. (Before: counted, the epoch
// being the same.)
func TestStillKnownNotAcrossAnEviction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	_, st := newManager(t, "HS256", &now)
	clock := now
	evictions := int64(0)
	w, _, err := continuity.Open(ctx, st, continuity.Options{
		Identity: t.TempDir(), // its own memory: another run's store is not this one
		Now:      func() time.Time { return clock },
		Evicted:  func(context.Context) (int64, error) { return evictions, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SawUsers(ctx); err != nil {
		t.Fatal(err)
	}
	known := knownIn(t, st)
	if !known(now.Add(time.Hour)) {
		t.Fatal("a cookie of the store's epoch is not known")
	}
	clock, evictions = now.Add(2*time.Hour), 1
	if _, err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Frozen() == nil {
		t.Fatal("the eviction froze nothing")
	}
	if known(now.Add(time.Hour)) {
		t.Fatal("a cookie from before the store evicted keys is known")
	}
	if !known(clock) {
		t.Fatal("a cookie issued since the freeze is not known")
	}
}
