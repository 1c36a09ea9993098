package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// slidingWindow: a window slides (it does not reset on the hour), a
// refused send is not counted, a refund frees its place, and of
// concurrent callers at most the limit win.
func slidingWindow(t *testing.T, s store.Store, key func(string) string) {
	ctx := context.Background()
	k := key("w")
	start := time.Unix(1_800_000_000, 0) // the clock is the caller's
	slide := func(id string, at time.Duration) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := s.Slide(ctx, k, id, 3, time.Hour, start.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	// Three at the end of one clock hour, then none at the start of
	// the next: a window slides, it does not reset on the hour.
	for i, at := range []time.Duration{50 * time.Minute, 55 * time.Minute, 59 * time.Minute} {
		if ok, _ := slide(fmt.Sprint("a", i), at); !ok {
			t.Fatalf("event %d refused under the limit", i)
		}
	}
	ok, wait := slide("b", 61*time.Minute)
	if ok || wait != 49*time.Minute {
		t.Fatalf("a fourth event 11 minutes later: ok=%v wait=%v; want refused, 49m until the first leaves", ok, wait)
	}
	// A refused event is not counted, and a refund frees its place.
	if err := s.Unslide(ctx, k, "a1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unslide(ctx, k, "never-there"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := slide("c", 62*time.Minute); !ok {
		t.Fatal("refused after a refund")
	}
	if ok, _ := slide("d", 63*time.Minute); ok {
		t.Fatal("allowed a fourth event in the window")
	}
	if ok, _ := slide("e", 110*time.Minute+time.Second); !ok {
		t.Fatal("refused after the oldest event left the window")
	}
	// Concurrent callers: at most the limit win.
	k2 := key("w2")
	var wins sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 20 {
		wins.Add(1)
		go func() {
			defer wins.Done()
			ok, _, err := s.Slide(ctx, k2, fmt.Sprint("id", i), 5, time.Hour, time.Now())
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wins.Wait()
	if won != 5 {
		t.Fatalf("%d of 20 concurrent events recorded under a limit of 5", won)
	}
}

// windowsOfTwoSpans: two gates on one store count one key with two spans
// (limit ip 3 1h at one, 3 1m at the other): the short one's count trims
// nothing the long one counts.
func windowsOfTwoSpans(t *testing.T, s store.Store, k string) {
	ctx := context.Background()
	start := time.Unix(1_800_000_000, 0)
	slide := func(id string, at, span time.Duration) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := s.Slide(ctx, k, id, 3, span, start.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	for i := range 3 {
		if ok, _ := slide(fmt.Sprint("hour", i), time.Duration(i)*time.Minute, time.Hour); !ok {
			t.Fatalf("event %d refused under the limit", i)
		}
	}
	if ok, _ := slide("minute", 5*time.Minute, time.Minute); !ok {
		t.Fatal("the minute's window refused with none in its minute")
	}
	if ok, wait := slide("hour3", 6*time.Minute, time.Hour); ok || wait != 55*time.Minute {
		t.Fatalf("the hour's window after the minute's: ok=%v wait=%v; want refused, 55m until two of its 4 have left it", ok, wait)
	}
	if ok, wait := slide("minute2", 5*time.Minute+30*time.Second, time.Minute); !ok || wait != 0 {
		t.Fatalf("the minute's window: ok=%v wait=%v, want its second event", ok, wait)
	}
}

// shortThenLong: a window counted first with a short span, then with a
// long one (two gates, or a limit's two windows, on one store), keeps
// what the short one counted for the long one once the short span has
// passed on the store's own clock — across the sweep of idle windows and
// a restart. Window "refused": the long count finds the short one's two
// sends and is refused, so writes nothing; window "made": the long count
// is made beside the short one's send. (Before, Badger kept a short
// window's sends on disk for the short span alone: the sweep forgot
// "refused" and a restart lost "made"'s first send, and the long window
// let a send through that it should have refused.)
func shortThenLong(t *testing.T, o Opened, k func(string) string) {
	ctx := context.Background()
	s, start := o.Store, time.Unix(1_800_000_000, 0)
	slide := func(name, id string, at, span time.Duration) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := s.Slide(ctx, k(name), id, 2, span, start.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	// A short span of 2s: Badger keeps a record a whole number of seconds,
	// at least one less than its lifetime.
	const short, long, ms = 2 * time.Second, time.Hour, time.Millisecond
	for i, id := range []string{"a1", "a2"} {
		if ok, _ := slide("refused", id, time.Duration(i)*ms, short); !ok {
			t.Fatalf("the short window refused %s under its limit", id)
		}
	}
	if ok, wait := slide("refused", "a3", 2*ms, long); ok || wait != long-2*ms {
		t.Fatalf("the long window after the short one's two: ok=%v wait=%v; want refused for %v", ok, wait, long-2*ms)
	}
	if ok, _ := slide("made", "b1", 0, short); !ok {
		t.Fatal("the short window refused its first send")
	}
	if ok, _ := slide("made", "b2", ms, long); !ok {
		t.Fatal("the long window refused its first send after the short one's")
	}
	WaitOut(t, s, k("probe"), short) // past the short span on the store's clock
	if o.Sweep != nil {
		o.Sweep(s, time.Now().Add(short)) // and the sweep, a moment on
	}
	refused := func(when string) {
		t.Helper()
		if ok, wait := slide("refused", "a4", 5*time.Second, long); ok || wait != long-5*time.Second {
			t.Fatalf("the long window %s: ok=%v wait=%v; want refused for %v (the short window's a1 and a2)", when, ok, wait, long-5*time.Second)
		}
	}
	refused("after the sweep")
	s = o.Reopen()
	refused("after a restart")
	if ok, wait := slide("made", "b3", 5*time.Second, long); ok || wait != long-5*time.Second {
		t.Fatalf("the long window after a restart: ok=%v wait=%v; want refused for %v (the short window's b1, and b2)", ok, wait, long-5*time.Second)
	}
}

// WaitOut writes k with lifetime ttl and waits until s has forgotten it:
// records s was given that lifetime before have expired too.
func WaitOut(t *testing.T, s store.Store, k string, ttl time.Duration) {
	t.Helper()
	ctx := context.Background()
	if err := s.Put(ctx, k, []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(ttl + 5*time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := s.Get(ctx, k); errors.Is(err, store.ErrNotFound) {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("a record with a %v TTL still there after %v", ttl, ttl+5*time.Second)
		}
	}
}

// slotsOfOneWindow: one batch takes several slots of one window (Slides
// of distinct events), as many as it has room for, and counts them as
// the window's own Slides would; another gives several back (Unslides);
// any other second naming of the key is refused.
func slotsOfOneWindow(t *testing.T, s store.Store, k, other string) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	if ok, _, err := s.Slide(ctx, k, "before", 3, time.Hour, now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	var b store.Batch
	var slots []*store.Op
	for i := range 4 {
		slots = append(slots, b.Slide(k, fmt.Sprint("slot", i), 3, time.Hour, now.Add(time.Second)))
	}
	b.Get(other)
	if err := store.Do(ctx, s, &b); err != nil {
		t.Fatal(err)
	}
	taken := 0
	for _, op := range slots {
		if op.OK {
			taken++
		} else if op.Wait != time.Hour-time.Second {
			t.Errorf("a slot refused with wait %v; want the oldest event's, %v", op.Wait, time.Hour-time.Second)
		}
	}
	if taken != 2 {
		t.Fatalf("a batch of 4 slots of a window with room for 2 took %d", taken)
	}
	if ok, _, err := s.Slide(ctx, k, "after", 3, time.Hour, now.Add(time.Minute)); err != nil || ok {
		t.Fatalf("after the batch, the window has room: %v %v", ok, err)
	}
	var back store.Batch
	for _, id := range []string{"before", "slot0", "slot1", "slot2", "slot3"} {
		back.Unslide(k, id)
	}
	if err := store.Do(ctx, s, &back); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Slide(ctx, k, "after", 3, time.Hour, now.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("after every slot was given back in one batch, the window is full: %v %v", ok, err)
	}
	for name, add := range map[string]func(b *store.Batch){
		"an event twice":       func(b *store.Batch) { b.Slide(k, "x", 9, time.Hour, now); b.Slide(k, "x", 9, time.Hour, now) },
		"a slide and a refund": func(b *store.Batch) { b.Slide(k, "x", 9, time.Hour, now); b.Unslide(k, "slot0") },
		"a refund and a slide": func(b *store.Batch) { b.Unslide(k, "slot0"); b.Slide(k, "x", 9, time.Hour, now) },
	} {
		var b store.Batch
		add(&b)
		if err := store.Do(ctx, s, &b); err == nil {
			t.Errorf("a batch naming one window for %s ran", name)
		}
	}
}

// clearWindowEmptiesAWindow: a ClearWindow of a window's key empties it,
// alone or in a batch, and what it cleared stays cleared after a restart.
// (Before, a Delete emptied Redis's window, a sorted set at the key, but
// not Badger's, whose events live under keys of their own.)
func clearWindowEmptiesAWindow(t *testing.T, o Opened, k string) {
	ctx := context.Background()
	s, start := o.Store, time.Unix(1_800_000_000, 0)
	fill := func(round string, at time.Duration) {
		t.Helper()
		for i := range 4 {
			ok, _, err := s.Slide(ctx, k, fmt.Sprint(round, i), 3, time.Hour, start.Add(at))
			if err != nil {
				t.Fatal(err)
			}
			if ok != (i < 3) {
				t.Fatalf("%s: event %d ok=%v; want the first 3 of a window of 3 (an empty window)", round, i, ok)
			}
		}
	}
	fill("first", 0)
	if err := s.ClearWindow(ctx, k); err != nil {
		t.Fatal(err)
	}
	fill("after a ClearWindow", time.Minute)
	var b store.Batch
	b.ClearWindow(k)
	if err := store.Do(ctx, s, &b); err != nil {
		t.Fatal(err)
	}
	fill("after a batch's ClearWindow", 2*time.Minute)
	if err := s.ClearWindow(ctx, k); err != nil {
		t.Fatal(err)
	}
	s = o.Reopen()
	fill("after a ClearWindow and a restart", 3*time.Minute)
}

// clearWindowRacingSlides: a ClearWindow of a window while sends are
// counted in it at once, repeated: each send is counted in the window or
// cleared with it, never half (a send that began after the last clear
// ended is counted; one that ended before it began is not), and a restart
// finds exactly what the window counted before it (nothing the clear
// removed comes back, nothing counted is lost).
func clearWindowRacingSlides(t *testing.T, o Opened, k string) {
	ctx := context.Background()
	s, now := o.Store, time.Unix(1_800_000_000, 0)
	const senders, sends, limit = 8, 25, 1000
	var seq atomic.Int64
	type span struct{ from, to int64 }
	var mu sync.Mutex
	counted := []span{}
	var lastDelete span
	var wg sync.WaitGroup
	start := make(chan struct{})
	var sending atomic.Int64 // the senders not done: the clears go on till half are
	sending.Store(senders)
	clears := 0
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer sending.Add(-1)
			<-start
			for i := range sends {
				from := seq.Add(1)
				ok, _, err := s.Slide(ctx, k, fmt.Sprint(g, "-", i), limit, time.Hour, now)
				to := seq.Add(1)
				if err != nil || !ok {
					t.Errorf("send %d-%d: ok=%v, %v", g, i, ok, err)
					return
				}
				mu.Lock()
				counted = append(counted, span{from, to})
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		for sending.Load() > senders/2 {
			clears++
			from := seq.Add(1)
			if err := s.ClearWindow(ctx, k); err != nil {
				t.Error(err)
				return
			}
			lastDelete = span{from, seq.Add(1)}
		}
	}()
	close(start)
	wg.Wait()
	least, most := 0, 0
	for _, c := range counted {
		if c.from > lastDelete.to {
			least++
		}
		if c.to > lastDelete.from {
			most++
		}
	}
	before := windowCount(t, s, k, now)
	if before < least || before > most {
		t.Errorf("the window counts %d sends after the race; want %d to %d (the sends around the last clear)", before, least, most)
	}
	s = o.Reopen()
	if after := windowCount(t, s, k, now); after != before {
		t.Errorf("a restart finds %d sends in the window; it counted %d before", after, before)
	}
	t.Logf("%d sends, %d clears at once: %d counted after the last (%d to %d possible), the same after a restart",
		len(counted), clears, before, least, most)
}

// windowCount is how many sends window k counts at now, read by counting
// one more under ever higher limits (and refunding it).
func windowCount(t *testing.T, s store.Store, k string, now time.Time) int {
	t.Helper()
	ctx := context.Background()
	for n := 1; n < 10_000; n++ {
		ok, _, err := s.Slide(ctx, k, "probe", n, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if err := s.Unslide(ctx, k, "probe"); err != nil {
				t.Fatal(err)
			}
			return n - 1
		}
	}
	t.Fatal("no count under 10,000")
	return 0
}
