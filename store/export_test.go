package store

import (
	"context"
	"time"
)

// SetCloseTimeout shortens how long closing waits for a stuck Badger, for
// the tests of that wait; it returns the previous value.
func SetCloseTimeout(d time.Duration) time.Duration {
	old := closeTimeout
	closeTimeout = d
	return old
}

// SetLockWait sets how long an open waits for a folder lock held by
// another (see openBadger); it returns the previous value. Only for tests
// that are not parallel: opens read it.
func SetLockWait(d time.Duration) time.Duration {
	old := lockWait
	lockWait = d
	return old
}

// Syncs tells how many lasting writes a Badger store opened by OpenBadger
// has synced.
func Syncs(st Store) int64 { return st.(*badgerDB).syncs.Load() }

// SweepWindows sweeps a Badger store's windows as if it were now, and
// returns how many stay open.
func SweepWindows(st Store, now time.Time) int {
	ws := st.(*badgerDB).windows
	ws.sweep(now)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.open)
}

// EventKey is where a Badger store keeps one send of a window.
func EventKey(key string, at time.Time, id string) string {
	return string(eventKey(key, at.UnixNano(), id))
}

// SetReplicaClock sets the clock by which a Redis store reads its
// masters' count of replicas again.
func SetReplicaClock(st Store, now func() time.Time) {
	rc := st.(*Redis).replicaCounts
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.now = now
}

// SlotOf is the Redis Cluster hash slot of key; MarkerFor, the key a
// lasting write of key writes after it (see Redis.lasting).
func SlotOf(key string) int                 { return slotOf(key) }
func MarkerFor(st Store, key string) string { return st.(*Redis).markerFor(key) }

// BudgetLeft is what is left of ctx's budget.
func BudgetLeft(ctx context.Context) time.Duration {
	return time.Duration(ctx.Value(budgetKey{}).(*budget).left.Load())
}

// ClaimParts are the parts of the claim b holds first (Batch.Claim), for
// a test that makes it through Claimer.Claim.
func ClaimParts(b *Batch) []*Op { return b.ops[0].parts }

// ScriptHashes are the hashes of every script a Redis store runs.
func ScriptHashes() []string {
	hashes := make([]string, len(scripts))
	for i, s := range scripts {
		hashes[i] = s.Hash()
	}
	return hashes
}

// ClockWarnings are what a Redis store's Open warns of its instance's
// clock, were it now.
func ClockWarnings(st Store, now func() time.Time) []string {
	return st.(*Redis).clockWarnings(context.Background(), now)
}
