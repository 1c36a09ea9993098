package pumping_test

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestCountsReadsWhatASendCounted: a send counted (Watch, Count) reads as
// one code sent to its country and its prefix, and one left unused by its
// number; its count given back (GiveBack), as none. Counts is what the
// enrollment tests of the guard read (guardSaw, unusedOf): a reader that
// read the wrong keys would have them pass testing nothing.
func TestCountsReadsWhatASendCounted(t *testing.T) {
	t.Parallel()
	st := storetest.Badger(t)
	ctx, now := context.Background(), time.Unix(1_800_000_000, 0)
	g := &pumping.Guard{Settings: pumping.Defaults, Store: st, Now: func() time.Time { return now }}
	const realm, e164, id = "example.com", "+447400123456", "number-id"
	counts := func(wantSent float64, wantUnused int64) {
		t.Helper()
		sent, unused, err := g.Counts(ctx, realm, e164, id)
		if err != nil || sent != [2]float64{wantSent, wantSent} || unused != wantUnused {
			t.Fatalf("counts: sent %v, unused %d (%v); want %v each, %d", sent, unused, err, wantSent, wantUnused)
		}
	}
	counts(0, 0)
	var first, second store.Batch
	w := g.Watch(&first, realm, e164, id, false)
	if err := store.Do(ctx, st, &first); err != nil {
		t.Fatal(err)
	}
	w.Count(&second, false)
	if err := store.Do(ctx, st, &second); err != nil {
		t.Fatal(err)
	}
	counts(1, 1)
	var back store.Batch
	w.GiveBack(&back)
	if err := store.Do(ctx, st, &back); err != nil {
		t.Fatal(err)
	}
	counts(0, 0)
}
