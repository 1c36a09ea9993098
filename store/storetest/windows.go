package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

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
