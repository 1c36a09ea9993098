package clock

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestNowIsTimeNow: on the monotonic clock Now lies exactly between two
// time.Now readings around it, and never goes back; on the wall clock
// within a millisecond of them (a time.Now reading is two clock reads, a
// little apart, and Now carries its base's gap).
func TestNowIsTimeNow(t *testing.T) {
	last := Now()
	for range 100000 {
		before := time.Now()
		now := Now()
		after := time.Now()
		if now.Before(before) || now.After(after) || now.Before(last) {
			t.Fatalf("Now %v is not between %v and %v, or before %v (monotonic)", now, before, after, last)
		}
		// Round(0) drops the monotonic part: these compare the wall clock,
		// which tokens' expiry is compared with.
		if now.Round(0).Before(before.Round(0).Add(-time.Millisecond)) || now.Round(0).After(after.Round(0).Add(time.Millisecond)) {
			t.Fatalf("Now %v is not within a millisecond of %v and %v (wall clock)", now.Round(0), before.Round(0), after.Round(0))
		}
		last = now
	}
}

// TestNowRebases: a base older than Rebase (or from the future, after a
// restore of a snapshot) is replaced by a new time.Now reading, which is
// what Now answers.
func TestNowRebases(t *testing.T) {
	for _, shift := range []time.Duration{-Rebase, -time.Hour, time.Hour} {
		old := time.Now().Add(shift)
		base.Store(&old)
		before := time.Now()
		now := Now()
		if now.Before(before) || now.Sub(before) > time.Second {
			t.Fatalf("a base moved by %v: Now %v, time.Now %v", shift, now, before)
		}
		if *base.Load() != now {
			t.Fatalf("a base moved by %v was not replaced", shift)
		}
	}
}

func TestNowConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10000 {
				if d := time.Since(Now()); d < 0 || d > time.Second {
					t.Errorf("Now is %v from time.Now", d)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkNow: Now against time.Now, side by side.
//
//	go test ./internal/clock -run '^$' -bench . -count 10
func BenchmarkNow(b *testing.B) {
	var sink time.Time
	b.Run("clock.Now", func(b *testing.B) {
		for b.Loop() {
			sink = Now()
		}
	})
	b.Run("time.Now", func(b *testing.B) {
		for b.Loop() {
			sink = time.Now()
		}
	})
	_ = sink
}

func TestFromCarriesTheClock(t *testing.T) {
	t.Parallel()
	fallback := func() time.Time { return time.Unix(1, 0) }
	if got := From(context.Background(), fallback)(); !got.Equal(time.Unix(1, 0)) {
		t.Fatalf("without a clock: %v", got)
	}
	var c Test
	c.Advance(48 * time.Hour)
	now := From(With(context.Background(), c.Now), fallback)
	if d := time.Until(now()); d < 47*time.Hour || d > 49*time.Hour {
		t.Fatalf("the carried clock is %v ahead, want 48h", d)
	}
}

func TestStartOfHour(t *testing.T) {
	t.Parallel()
	var c Test
	c.StartOfHour()
	if m := c.Now().Sub(c.Now().Truncate(time.Hour)); m < time.Second || m > time.Minute {
		t.Fatalf("%v past the hour", m)
	}
	if c.Now().Before(time.Now()) {
		t.Fatal("the clock went back")
	}
}
