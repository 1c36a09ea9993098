package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
	if _, err := s.Get(ctx, "k"); err == nil {
		t.Fatal("a Get on a paused Redis answered")
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrBudgetSpent) {
		t.Fatalf("a second Get once the budget was spent: %v", err)
	}
	err = s.Update(ctx, "k", func([]byte, bool) ([]byte, time.Duration, error) { return []byte("w"), 0, nil })
	if !errors.Is(err, store.ErrBudgetSpent) {
		t.Fatalf("an Update once the budget was spent: %v", err)
	}
	took := time.Since(start)
	t.Logf("three calls on a paused Redis with a budget of 300 ms: %s", took.Round(time.Millisecond))
	if took > 3*time.Second { // a hang detector: go-redis's read timeout is 5 s
		t.Fatalf("three calls with a budget of 300 ms took %s", took)
	}
	if n := len(w.Seen()); n > 1 {
		t.Fatalf("%d round trips sent once the budget was spent, want the first only", n)
	}
}
