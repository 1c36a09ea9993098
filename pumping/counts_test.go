package pumping_test

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/pumping/pumpingtest"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestCountsReadsWhatASendCounted: a send counted (Watch, Count) reads as
// one code sent to its country and its prefix, and one left unused by its
// number; its count given back (GiveBack), as none; half a window into the
// next, as half a code sent (the window before, weighed); a number's codes
// given back, forgotten under a mark once its window of unused codes
// ended, as none given back. pumpingtest.Counts is what the enrollment
// tests of the guard read (guardSaw, unusedOf), through the store: it
// reads each as the guard does (Counts, from its own keys) — a reader that
// read the wrong keys would have them pass testing nothing.
func TestCountsReadsWhatASendCounted(t *testing.T) {
	t.Parallel()
	st := storetest.Badger(t)
	ctx, now := context.Background(), time.Unix(1_800_000_000, 0) // a window begins
	g := &pumping.Guard{Settings: pumping.Defaults, Store: st, Now: func() time.Time { return now }}
	const realm, e164, id = "example.com", "+447400123456", "number-id"
	counts := func(wantSent float64, wantUnused int64) {
		t.Helper()
		sent, unused, err := g.Counts(ctx, realm, e164, id)
		if err != nil || sent != [2]float64{wantSent, wantSent} || unused != wantUnused {
			t.Fatalf("counts: sent %v, unused %d (%v); want %v each, %d", sent, unused, err, wantSent, wantUnused)
		}
		read, readUnused, err := pumpingtest.Counts(ctx, g, realm, e164, id)
		if err != nil || read != sent || readUnused != unused {
			t.Fatalf("pumpingtest.Counts: sent %v, unused %d (%v); the guard's %v, %d", read, readUnused, err, sent, unused)
		}
	}
	count := func() *pumping.Watch {
		t.Helper()
		var first, second store.Batch
		w := g.Watch(&first, realm, e164, id, false)
		if err := store.Do(ctx, st, &first); err != nil {
			t.Fatal(err)
		}
		w.Count(&second, false)
		if err := store.Do(ctx, st, &second); err != nil {
			t.Fatal(err)
		}
		return w
	}
	giveBack := func(w *pumping.Watch) {
		t.Helper()
		var back store.Batch
		w.GiveBack(&back)
		if err := store.Do(ctx, st, &back); err != nil {
			t.Fatal(err)
		}
	}
	counts(0, 0)
	w := count()
	counts(1, 1)
	giveBack(w)
	counts(0, 0)
	count()
	counts(1, 1)
	now = now.Add(pumping.Defaults.Window * 3 / 2)
	counts(0.5, 1) // the window before, weighed a half
	if err := st.Delete(ctx, store.Key("pumping", realm, "unused", id)); err != nil {
		t.Fatal(err) // the window of unused codes ends, as its expiry would
	}
	w = count() // finds it ended: forgets what was given back, under a mark
	counts(1.5, 1)
	giveBack(w)
	counts(0.5, 0)
	count()
	counts(1.5, 1)
}
