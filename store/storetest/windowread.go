package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// windowReads: Window counts a window's events within its span, alone and
// in a batch, records none (however often it is read), and says when the
// oldest of them leaves; a missing window holds none.
func windowReads(t *testing.T, s store.Store, k string) {
	ctx := context.Background()
	start := time.Unix(1_800_000_000, 0)
	read := func(at, span time.Duration) (int, time.Duration) {
		t.Helper()
		n, wait, err := s.Window(ctx, k, span, start.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		var b store.Batch
		op := b.Window(k, span, start.Add(at))
		if err := store.Do(ctx, s, &b); err != nil {
			t.Fatal(err)
		}
		if int(op.N) != n || op.Wait != wait {
			t.Fatalf("a batch's Window read %d, %v where the store's read %d, %v", op.N, op.Wait, n, wait)
		}
		return n, wait
	}
	if n, wait := read(0, time.Hour); n != 0 || wait != 0 {
		t.Fatalf("a missing window: %d events, wait %v; want none", n, wait)
	}
	for i, at := range []time.Duration{0, 10 * time.Minute, 20 * time.Minute} {
		if ok, _, err := s.Slide(ctx, k, fmt.Sprint("e", i), 5, time.Hour, start.Add(at)); err != nil || !ok {
			t.Fatalf("event %d: ok=%v err=%v", i, ok, err)
		}
	}
	for range 3 {
		if n, wait := read(30*time.Minute, time.Hour); n != 3 || wait != 30*time.Minute {
			t.Fatalf("at 30m over an hour: %d events, wait %v; want 3, 30m until the first leaves", n, wait)
		}
	}
	if n, wait := read(30*time.Minute, 15*time.Minute); n != 1 || wait != 5*time.Minute {
		t.Fatalf("at 30m over 15m: %d events, wait %v; want the one at 20m, leaving in 5m", n, wait)
	}
	if n, wait := read(65*time.Minute, time.Hour); n != 2 || wait != 5*time.Minute {
		t.Fatalf("at 65m over an hour: %d events, wait %v; want 2, the one at 10m leaving in 5m", n, wait)
	}
	if n := windowCount(t, s, k, start.Add(30*time.Minute)); n != 3 {
		t.Fatalf("the window counts %d after the reads, want the 3 slid (a read records none)", n)
	}
}
