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

// BenchmarkNow: Now and UnixNano against time.Now, side by side.
//
//	go test ./internal/clock -run '^$' -bench . -count 10
func BenchmarkNow(b *testing.B) {
	var sink time.Time
	b.Run("clock.Now", func(b *testing.B) {
		for b.Loop() {
			sink = Now()
		}
	})
	b.Run("clock.UnixNano", func(b *testing.B) {
		var n int64
		for b.Loop() {
			n = UnixNano()
		}
		_ = n
	})
	b.Run("time.Now", func(b *testing.B) {
		for b.Loop() {
			sink = time.Now()
		}
	})
	_ = sink
}

// TestFromCarriesTheClock: a context's clock; without one the default,
// the real time read coarsely by repeat visits, which SetDefault moves
// (read as it is, not as Coarse, which it does not move).
func TestFromCarriesTheClock(t *testing.T) {
	now, coarse := From(context.Background())
	if d := time.Since(now()); d < 0 || d > time.Second {
		t.Fatalf("without a clock: %v from time.Now", d)
	}
	if !coarse {
		t.Fatal("without a clock: repeat visits read the clock")
	}
	var c Test
	c.Advance(48 * time.Hour)
	for name, ctx := range map[string]context.Context{"carried": With(context.Background(), c.Now), "default": context.Background()} {
		if name == "default" {
			// Put back the default as it was, clock and coarse flag both
			// (SetDefault(Now) would leave it read as it is, not as
			// Coarse): the package's other tests, and this one again
			// under -count, run after this one, not beside it.
			now, coarse := defaultNow, defaultCoarse
			t.Cleanup(func() { defaultNow, defaultCoarse = now, coarse })
			SetDefault(c.Now)
		}
		now, coarse := From(ctx)
		if d := time.Until(now()); d < 47*time.Hour || d > 49*time.Hour {
			t.Fatalf("the %s clock is %v ahead, want 48h", name, d)
		}
		if coarse {
			t.Fatalf("the %s clock is read as Coarse, the real time", name)
		}
		// Production's clock is the real time, whatever the default.
		now, coarse = From(Production(ctx))
		if d := time.Since(now()); d < 0 || d > time.Second || !coarse {
			t.Fatalf("the production clock, over the %s one: %v from time.Now, coarse %v", name, d, coarse)
		}
	}
}

// TestUnixNanoIsTimeNow: UnixNano lies between two time.Now readings
// around it (within a millisecond: a time.Now reading is two clock reads,
// and UnixNano carries the gap of its last), and never goes back.
func TestUnixNanoIsTimeNow(t *testing.T) {
	last := UnixNano()
	for range 100000 {
		before := time.Now().UnixNano()
		now := UnixNano()
		after := time.Now().UnixNano()
		if now < before-int64(time.Millisecond) || now > after+int64(time.Millisecond) || now < last {
			t.Fatalf("UnixNano %d is not within a millisecond of %d and %d, or before %d", now, before, after, last)
		}
		last = now
	}
}

// TestUnixNanoRebases: the wall clock is read again once its last reading
// is Rebase old: an offset that went wrong (a step of the system clock)
// is served until then, and replaced then.
func TestUnixNanoRebases(t *testing.T) {
	UnixNano()
	unix.offset.Add(int64(time.Hour)) // as if the system clock stepped back an hour since
	if d := time.Duration(UnixNano() - time.Now().UnixNano()); d < 59*time.Minute {
		t.Fatalf("UnixNano read the wall clock before Rebase passed (%v ahead)", d)
	}
	unix.until.Add(-int64(Rebase)) // Rebase passes
	// Between two time.Now readings around it, within a millisecond (as in
	// TestUnixNanoIsTimeNow), however long a starved machine takes
	// between the calls.
	for _, when := range []string{"after Rebase", "after it read the wall clock again"} {
		before := time.Now().UnixNano()
		now := UnixNano()
		after := time.Now().UnixNano()
		if now < before-int64(time.Millisecond) || now > after+int64(time.Millisecond) {
			t.Fatalf("UnixNano %d is not within a millisecond of %d and %d %s", now, before, after, when)
		}
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

// TestAStoppedClockMovesOnlyByAdvance: stopped, the test clock reads the
// same however much real time passes, Advance still moves it, and Run
// puts it back on the real time with its skew (sitetest's StopClock).
func TestAStoppedClockMovesOnlyByAdvance(t *testing.T) {
	t.Parallel()
	var c Test
	c.Advance(time.Hour)
	at := time.Now()
	c.Stop(at)
	first := c.Now()
	if !first.Equal(time.Unix(0, at.UnixNano()).Add(time.Hour)) {
		t.Fatalf("stopped at %v with an hour's skew, it reads %v", at, first)
	}
	for start := time.Now(); time.Since(start) < 5*time.Millisecond; { // real time passes (no wait on it)
		if !c.Now().Equal(first) {
			t.Fatal("a stopped clock moved by itself")
		}
	}
	c.Advance(600 * time.Millisecond)
	if got := c.Now().Sub(first); got != 600*time.Millisecond {
		t.Fatalf("Advance moved the stopped clock by %v", got)
	}
	c.Run()
	if d := c.Now().Sub(time.Now()); d < time.Hour || d > time.Hour+time.Second {
		t.Fatalf("running again, the clock is %v off the real time (its skew: an hour and 0.6 s)", d)
	}
}

// TestCoarseIsNeverBehind: Coarse is never behind the real time (within
// UnixNano's millisecond) and at most Ahead in front of it, and it moves:
// each reading serves about Refresh, then the clock is read again. What
// it does not assert is the runtime's timing: a reading held behind the
// real time is one whose timer, due Refresh after it, has not run in the
// Ahead-Refresh since (Coarse allows that on a starved machine: the test
// once failed so, 2.6 ms behind, under a heavy load). Such a reading
// fails the test only if nothing was set to clear it: its timer must be
// pending still, or have fired and clear it. A new reading is Ahead in
// front, to the millisecond, whatever the load.
func TestCoarseIsNeverBehind(t *testing.T) {
	readings := map[int64]bool{}
	late := 0
	start := time.Now()
	// Four Refresh periods and three readings at least; a busy machine
	// runs the timer late, so give it up to 10 s for them.
	for time.Since(start) < 4*Refresh || (len(readings) < 3 && time.Since(start) < 10*time.Second) {
		fresh := coarse.now.Load() == 0 // only the timer changes it meanwhile, to 0
		before := time.Now().UnixNano()
		c := Coarse()
		after := time.Now().UnixNano()
		if c > after+int64(Ahead+time.Millisecond) {
			t.Fatalf("Coarse is %v in front of the real time, more than Ahead (%v)", time.Duration(c-after), Ahead)
		}
		if fresh && c < before+int64(Ahead-time.Millisecond) {
			t.Fatalf("a new reading is %v in front of the real time, less than Ahead (%v)", time.Duration(c-before), Ahead)
		}
		if c < before-int64(time.Millisecond) {
			// Held past its timer: pending still (late: what it would
			// have done is done here), or fired and clearing it.
			late++
			if coarse.clear.Stop() {
				coarse.now.CompareAndSwap(c, 0)
				continue
			}
			for deadline := time.Now().Add(10 * time.Second); coarse.now.Load() == c; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("Coarse is %v behind the real time, and no timer clears it", time.Duration(before-c))
				}
			}
			continue
		}
		readings[c] = true
	}
	if len(readings) < 3 {
		t.Fatalf("%d readings in %v: the timer does not clear them", len(readings), time.Since(start))
	}
	if late > 0 {
		t.Logf("%d readings were held past their timer (a starved machine)", late)
	}
}

// TestCoarseRestsWhenIdle: the reading is cleared Refresh after it was
// made, and with no call since, no timer is left running: an idle server
// is not woken.
func TestCoarseRestsWhenIdle(t *testing.T) {
	Coarse()
	deadline := time.Now().Add(10 * time.Second)
	for coarse.now.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reading was not cleared")
		}
		time.Sleep(Refresh / 5)
	}
	if coarse.clear.Stop() {
		t.Fatal("the timer runs on with nobody reading the clock")
	}
	// The next call reads the clock and starts the timer again.
	before := time.Now().UnixNano()
	// (Held, or cleared already if the timer ran meanwhile: a starved
	// machine can take Refresh between two lines.)
	if c, held := Coarse(), coarse.now.Load(); c < before-int64(time.Millisecond) || held != c && held != 0 {
		t.Fatalf("after a rest: Coarse %d, before %d, held %d", c, before, held)
	}
	for coarse.now.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reading was not cleared after the rest")
		}
		time.Sleep(Refresh / 5)
	}
}
