package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestABudgetBoundsAHungRedis: on a paused Redis (connections open, no
// answer) a request's calls together wait its budget once: the first waits
// it out, the next answer ErrBudgetSpent without being sent (the proxy sees
// none). Before, each call waited go-redis's read timeout (5 s) in turn.
// A context without a budget is held to nothing new.
func TestABudgetBoundsAHungRedis(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	w := redistest.Watched(t, r.Addr)
	s, closeFn, err := store.OpenRedis(&store.Redis{Addresses: []string{w.Addr}, KeyPrefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFn() })
	bg := context.Background()
	if err := s.Put(bg, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	r.Pause()
	defer r.Resume()
	w.Seen()
	ctx := store.WithBudget(bg, 300*time.Millisecond)
	start := time.Now()
	// The budget ended it (its deadline), not go-redis's read timeout and
	// its tries (an i/o timeout, what ended it before).
	if _, err := s.Get(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a Get on a paused Redis ended with %v, not its budget", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrBudgetSpent) {
		t.Fatalf("a second Get once the budget was spent: %v", err)
	}
	err = s.Update(ctx, "k", func([]byte, bool) ([]byte, time.Duration, error) { return []byte("w"), 0, nil })
	if !errors.Is(err, store.ErrBudgetSpent) {
		t.Fatalf("an Update once the budget was spent: %v", err)
	}
	t.Logf("three calls on a paused Redis with a budget of 300 ms: %s", time.Since(start).Round(time.Millisecond))
	if n := len(w.Seen()); n > 1 {
		t.Fatalf("%d round trips sent once the budget was spent, want the first only", n)
	}
}

// TestAScanOnARedisHungMidwayEndsWithinItsBudget: a scan (the admin's
// users, an export) is not held to its request's budget in all, as it
// takes as long as the store is large, but each of its round trips is:
// a Redis that stops answering part way (paused here, after the first
// key) ends the scan with an error within the budget. Before, only the
// scan's start was checked against the budget, and a hang midway waited
// out go-redis's read timeout and its tries (10 s).
func TestAScanOnARedisHungMidwayEndsWithinItsBudget(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	s, closeFn, err := store.OpenRedis(&store.Redis{Addresses: []string{r.Addr}, KeyPrefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFn() })
	bg := context.Background()
	var b store.Batch
	for i := range 3000 { // three SCAN batches at least
		b.Put(fmt.Sprint("device/", i), []byte("1"), 0)
	}
	if err := store.Do(bg, s, &b); err != nil {
		t.Fatal(err)
	}
	// Not held to its budget in all: on a clock that moves a minute at
	// each reading, a scan charged with its round trips would find its
	// minute spent after the first; each round trip has the minute of real
	// time (an answering Redis on a loaded machine may take more than a
	// request's budget of 300 ms).
	var minutes atomic.Int64
	ctx := store.WithBudget(clock.ForBudgets(bg, func() time.Time { return time.Unix(60*minutes.Add(1), 0) }), time.Minute)
	n := 0
	if err := s.Scan(ctx, "device/", func(string, []byte) error { n++; return nil }); err != nil || n != 3000 {
		t.Fatalf("a scan of a Redis that answers: %d keys, %v", n, err)
	}
	if left := store.BudgetLeft(ctx); left != time.Minute {
		t.Fatalf("a scan charged %v to its request's budget, want none", time.Minute-left)
	}
	// Redis is paused once the scan has its first key. A first round trip
	// that a loaded machine keeps past the budget ends the scan before
	// that (not midway): it is made again with twice the budget.
	for budget := 300 * time.Millisecond; ; budget *= 2 {
		start := time.Now()
		n = 0
		err = s.Scan(store.WithBudget(bg, budget), "device/", func(string, []byte) error {
			if n++; n == 1 {
				r.Pause()
			}
			return nil
		})
		took := time.Since(start)
		r.Resume()
		t.Logf("a scan with a budget of %s, Redis paused after its first key: %s, %d keys, %v", budget, took.Round(time.Millisecond), n, err)
		if n > 0 || budget > time.Minute {
			break
		}
	}
	// The budget ended it, not go-redis's own read timeout and its tries
	// (what ended it before): no bound on the wall time, which a loaded
	// machine stretches.
	if n == 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a scan of a Redis paused midway ended with %v after %d keys, not its budget", err, n)
	}
}

// TestAClusterClaimRetriedIsChargedOnce: on a Cluster a claim whose
// records hash to two slots goes as swaps side by side; one that won one
// record and lost the other gives back what it won and is made again in
// turn — more store calls, made within the claim's own. Their time is the
// claim's, charged to its request's budget once. The budget's clock here
// moves a second at each reading, so a call charges one second: the claim
// charges one (before: 13, its give-backs' and retry's four updates each
// charged on their own and again within the claim).
func TestAClusterClaimRetriedIsChargedOnce(t *testing.T) {
	t.Parallel()
	s, closeFn, err := store.OpenRedis(&store.Redis{Addresses: redistest.StartCluster(t), KeyPrefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFn() })
	bg := context.Background()
	a, b := "claim/a", "claim/b"
	for store.SlotOf("test:"+a) == store.SlotOf("test:"+b) {
		b += "b"
	}
	var reads store.Batch
	readA, readB := reads.Get(a), reads.Get(b)
	if err := store.Do(bg, s, &reads); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(bg, b, []byte("another's"), time.Hour); err != nil { // b changed since its read
		t.Fatal(err)
	}
	var tick atomic.Int64
	ctx := store.WithBudget(clock.ForBudgets(bg, func() time.Time {
		return time.Unix(tick.Add(1), 0)
	}), time.Minute)
	var claim store.Batch
	c := claim.Claim(store.Swap{Key: a, Read: readA, Value: []byte("mine"), TTL: time.Hour},
		store.Swap{Key: b, Read: readB, Value: []byte("mine"), TTL: time.Hour})
	if err := store.Do(ctx, s, &claim); err != nil || c.Err != nil || c.OK {
		t.Fatalf("a claim of a record changed since its read: ok=%v %v %v", c.OK, err, c.Err)
	}
	if v, err := s.Get(bg, a); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the record the lost claim won for a moment: %q %v, want given back (none)", v, err)
	}
	if spent := time.Minute - store.BudgetLeft(ctx); spent != time.Second {
		t.Fatalf("the claim charged %v of its request's budget, want 1s (one call)", spent)
	}
}
