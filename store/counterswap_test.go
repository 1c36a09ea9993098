package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// oneByOne is a store that runs a batch one operation after another (it
// is no Batcher), as a store wrapper does.
type oneByOne struct{ store.Store }

// TestACounterReadIsSwapped: a Swap against a Counter read in an earlier
// batch writes only where the counter is still what was read (a count,
// or none), on Badger and Redis, in a Redis pipeline and one operation
// after another: a counter deleted unless counted meanwhile (the pumping
// guard's counts given back). Before, a Counter read kept no record, and
// a Swap against it compared with a record found empty. (A count written
// over a counter read, SwapCount: the conformance suite's CountSwapped.)
func TestACounterReadIsSwapped(t *testing.T) {
	t.Parallel()
	onCounterStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		for _, c := range []struct {
			name          string
			before, since int // counts before the read, and since
			want          int64
		}{{"counted, unchanged", 2, 0, 0}, {"counted, counted since", 2, 1, 3}, {"none, unchanged", 0, 0, 0}, {"none, counted since", 0, 1, 1}} {
			key := store.Key("swap", c.name)
			for range c.before {
				if _, err := s.Incr(ctx, key, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			var reads store.Batch
			read := reads.Counter(key)
			if err := store.Do(ctx, s, &reads); err != nil || read.N != int64(c.before) {
				t.Fatalf("%s: read %d, %v", c.name, read.N, err)
			}
			for range c.since {
				if _, err := s.Incr(ctx, key, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			var writes store.Batch
			swap := writes.Swap(key, read, nil, 0)
			if err := store.Do(ctx, s, &writes); err != nil {
				t.Fatal(err)
			}
			n, err := s.Counter(ctx, key)
			if err != nil || n != c.want || swap.OK != (c.since == 0) {
				t.Errorf("%s: the counter holds %d (%v), swapped %v; want %d", c.name, n, err, swap.OK, c.want)
			}
		}
	})
}

// onCounterStores runs test, in parallel subtests, on a Badger store (as
// OpenBadger opens it) and on one on a Redis server, each also one
// operation after another (oneByOne).
func onCounterStores(t *testing.T, test func(t *testing.T, s store.Store)) {
	for name, open := range map[string]func(testing.TB) store.Store{"badger": storetest.Badger, "redis": storetest.Redis} {
		for _, wrapped := range []bool{false, true} {
			t.Run(name+map[bool]string{true: " one by one"}[wrapped], func(t *testing.T) {
				t.Parallel()
				s := open(t)
				if wrapped {
					s = oneByOne{s}
				}
				test(t, s)
			})
		}
	}
}

// TestAClaimAgainstACounterReadOfNone: a claim against a Counter read
// that found no counter writes where there is still none, as a Swap does
// (Op.foundRecord). Before, a claim took any read without an error as one
// that found a record, and a missing counter reads as 0 without one: the
// claim compared with a record that was never there, and lost every time.
func TestAClaimAgainstACounterReadOfNone(t *testing.T) {
	t.Parallel()
	onCounterStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		var reads store.Batch
		none, got := reads.Counter(store.Key("claim", "none")), reads.Get(store.Key("claim", "other"))
		if err := store.Do(ctx, s, &reads); err != nil || none.N != 0 {
			t.Fatalf("read %d, %v", none.N, err)
		}
		var writes store.Batch
		claim := writes.Claim(
			store.Swap{Key: store.Key("claim", "none"), Read: none, Value: []byte("12345678"), TTL: time.Hour},
			store.Swap{Key: store.Key("claim", "other"), Read: got, Value: []byte("x"), TTL: time.Hour})
		if err := store.Do(ctx, s, &writes); err != nil || !claim.OK {
			t.Fatalf("claimed %v, %v; want true", claim.OK, err)
		}
		if v, err := s.Get(ctx, store.Key("claim", "none")); err != nil || string(v) != "12345678" {
			t.Errorf("the counter's record holds %q, %v", v, err)
		}
	})
}
