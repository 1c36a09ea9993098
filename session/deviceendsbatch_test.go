package session

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// tripCounter counts a store's batches sent in one round trip (DoBatch:
// Redis's pipelines) and its Updates.
type tripCounter struct {
	store.Store
	batches, updates atomic.Int64
}

func (c *tripCounter) DoBatch(ctx context.Context, ops []*store.Op) {
	c.batches.Add(1)
	c.Store.(store.Batcher).DoBatch(ctx, ops)
}

func (c *tripCounter) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, key, change)
}

// TestDeviceEndsArePutBackInTwoRoundTrips: a gate putting back the ends
// of 50 devices it was told of into a store that forgot them (or holds
// some) writes them in two round trips on a real Redis (their records
// read in one pipeline, compare-and-set in another), not an Update each
// (before: 50 Updates, two round trips or more each); one the store holds
// ending later stays, one ending earlier is replaced.
func TestDeviceEndsArePutBackInTwoRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	base := &tripCounter{Store: storetest.Redis(t)}
	m, err := NewManager(ctx, Config{Store: base, Realm: "example.com", Alg: "HS256", Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		m.covered.add(now, revocation{Realm: m.realm, Of: "alice", Device: fmt.Sprint("d", i), At: now.UnixNano()}, time.Hour)
	}
	later, earlier := deviceEnd{At: now.Add(time.Minute)}, deviceEnd{At: now.Add(-time.Minute)}
	for i, e := range map[int]deviceEnd{0: later, 1: earlier} {
		if err := base.Store.Put(ctx, endkeys.Device(m.realm, "alice", fmt.Sprint("d", i)), e.record(), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	base.batches.Store(0)
	base.updates.Store(0)
	m.putBack(ctx)
	if b, u := base.batches.Load(), base.updates.Load(); b != 2 || u != 0 {
		t.Errorf("putting back %d devices' ends: %d pipelines and %d Updates; want 2 and none", n, b, u)
	}
	for i := range n {
		want := deviceEnd{At: now}
		if i == 0 {
			want = later
		}
		got, err := base.Store.Get(ctx, endkeys.Device(m.realm, "alice", fmt.Sprint("d", i)))
		if err != nil || string(got) != string(want.record()) {
			t.Errorf("d%d's end: %s, %v; want %s", i, got, err, want.record())
		}
	}
}

// changedAfterRead is a store (no batches of its own: each operation in
// turn) on which another gate writes value at key just before the first
// Update of key (a batch's compare-and-set).
type changedAfterRead struct {
	store.Store
	key   string
	value []byte
	done  bool
}

func (c *changedAfterRead) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if key == c.key && !c.done {
		c.done = true
		if err := c.Store.Put(ctx, key, c.value, time.Hour); err != nil {
			return err
		}
	}
	return c.Store.Update(ctx, key, change)
}

// TestADeviceEndChangedAfterItsReadIsDecidedAgain: an end written by
// another gate between the batch's read and its compare-and-set is
// decided again: one ending later stays (not written), one ending earlier
// is replaced (written). On Badger and a real Redis.
func TestADeviceEndChangedAfterItsReadIsDecidedAgain(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now()
		ours := deviceEnd{At: now}
		for name, meanwhile := range map[string]deviceEnd{"later": {At: now.Add(time.Minute)}, "earlier": {At: now.Add(-time.Minute)}} {
			key := endkeys.Device("example.com", "alice", name)
			changed := &changedAfterRead{Store: st, key: key, value: meanwhile.record()}
			wrote := false
			err := keepLaterDeviceEnds(ctx, changed, []keyedEnd{{key, ours}}, now, 0, false, func(_ int, k EndKept) error {
				wrote = k == EndWritten
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]deviceEnd{"later": meanwhile, "earlier": ours}[name]
			if got, _ := st.Get(ctx, key); string(got) != string(want.record()) || wrote != (name == "earlier") {
				t.Errorf("an end %s written meanwhile: the store holds %s (written: %v); want %s", name, got, wrote, want.record())
			}
		}
	})
}

// failsFirstEndRead is a store (no batches of its own: each operation in
// turn) whose first read of a device's end fails, as a store failing one
// round trip does.
type failsFirstEndRead struct {
	store.Store
	failed atomic.Bool
}

func (f *failsFirstEndRead) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, endkeys.DevicePrefix) && f.failed.CompareAndSwap(false, true) {
		return nil, errDown
	}
	return f.Store.Get(ctx, key)
}

// TestAFailedBatchOfDeviceEndsPutBackLeavesTheOthersWritten: a gate
// putting back two batches of devices' ends into a store that forgot
// them, the store failing the first batch, writes the second all the
// same: putBack is not run again, and another instance or a restarted
// gate reads the store, not this gate's memory (before: the run stopped
// at the first failed batch, and none was written). On Badger and a real
// Redis.
func TestAFailedBatchOfDeviceEndsPutBackLeavesTheOthersWritten(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now()
		failing := &failsFirstEndRead{Store: st}
		m, err := NewManager(ctx, Config{Store: failing, Realm: "example.com", Alg: "HS256", Lifetime: time.Hour, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		const n = 2 * DeviceEndsABatch
		for i := range n {
			m.covered.add(now, revocation{Realm: m.realm, Of: "alice", Device: fmt.Sprint("d", i), At: now.UnixNano()}, time.Hour)
		}
		m.putBack(ctx)
		if !failing.failed.Load() {
			t.Fatal("no read of a device's end failed")
		}
		written := 0
		for i := range n {
			if _, err := st.Get(ctx, endkeys.Device(m.realm, "alice", fmt.Sprint("d", i))); err == nil {
				written++
			}
		}
		if written != n-DeviceEndsABatch {
			t.Errorf("%d of %d devices' ends put back with one batch failed; want %d (the other batch)", written, n, n-DeviceEndsABatch)
		}
	})
}
