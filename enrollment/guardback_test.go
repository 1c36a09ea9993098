package enrollment

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/store"
)

// betweenBatches is a store that runs then once, at the first count of
// the record at key, before it: a send's second batch counting a
// number's unused codes (pumping.Watch.Count), after its first read them.
type betweenBatches struct {
	store.Store
	key   string
	fired atomic.Bool
	then  func()
}

// Incr implements store.Store.
func (s *betweenBatches) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if key == s.key && s.fired.CompareAndSwap(false, true) {
		s.then()
	}
	return s.Store.Incr(ctx, key, ttl)
}

// TestAGiveBackBetweenASendsBatchesStays: a send to a number with no
// unused codes (alice's) is made whole, and given back (the gateway sent
// nothing), between the two batches of another send to it (bob's, who
// shares the number): bob's first batch read none unused, so his second
// forgets the counts given back that it read — and those only. The
// number has one code unused, bob's, on Badger and Redis. Before, bob's
// send deleted the count given back whatever it held, alice's with it:
// two codes unused, one sent.
func TestAGiveBackBetweenASendsBatchesStays(t *testing.T) {
	giveBackBetweenBatches(t, map[string]string{"": ""})
}

// TestAStaleGiveBackIsNotAnotherSends: as above, but the number holds a
// count given back that outlived its window of unused codes (a 1): bob's
// first batch reads no codes unused and that 1; alice's send, made whole
// between bob's batches, forgets it and gives its own count back — a 1
// again. Bob's second batch forgets the 1 it read, and that record only:
// alice's count given back stays, and the number has one code unused,
// bob's, on Badger and Redis. Before, the compare-and-delete compared
// counts, and alice's 1 was bob's 1: two codes unused, one sent. So too
// where the stale 1 is the previous release's (its record of counts given
// back, which this release reads and forgets, but never counts on).
func TestAStaleGiveBackIsNotAnotherSends(t *testing.T) {
	giveBackBetweenBatches(t, map[string]string{"this release's/": "unused-given", "the previous release's/": "unused-back"})
}

// giveBackBetweenBatches runs alice's send, given back, between bob's
// batches (stale: the number holds a count given back, 1, whose window
// of unused codes ended, in the record of that name) and wants the
// number's one code unused, bob's: for each case of stales (its name, a
// prefix of its parts' names, and its stale record, "" for none), on
// each store, all in parallel parts of t. One level of parts: a case
// that was a subtest of its own, whose parts are parallel, gave its slot
// back and its parts queued again behind the package (docs/TESTING.md,
// speed41b).
func giveBackBetweenBatches(t *testing.T, stales map[string]string) {
	t.Parallel()
	for prefix, stale := range stales {
		giveBackOn(t, prefix, stale)
	}
}

// giveBackOn is giveBackBetweenBatches' one case, in parts of t named
// prefix+store.
func giveBackOn(t *testing.T, prefix, stale string) {
	for name, open := range guardStores(t) {
		t.Run(prefix+name, func(t *testing.T) {
			t.Parallel()
			s, out, _, _ := guarded(t, open(t))
			ctx := context.Background()
			if stale != "" {
				if _, err := s.Store.Incr(ctx, store.Key("pumping", realm, stale, s.numberID(num)), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			between := &betweenBatches{Store: s.Store, key: store.Key("pumping", realm, "unused", s.numberID(num))}
			between.then = func() {
				out.err = providers.NotSent(errors.New("connection refused"))
				if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, new(*SendError)) {
					t.Errorf("alice's send, which the gateway sent nothing for: %v", err)
				}
				out.err = nil
			}
			s.Store, s.Guard.Store = between, between
			if _, err := s.Start(ctx, sc, Challenge{User: "bob", Phone: num, Purpose: Verify}); err != nil {
				t.Fatal(err)
			}
			if !between.fired.Load() || out.sentCount() != 1 {
				t.Fatalf("alice's send made between bob's batches: %v; %d texts", between.fired.Load(), out.sentCount())
			}
			if unused := unusedOf(t, s, num); unused != 1 {
				t.Fatalf("%d codes unused by the number; want 1, bob's", unused)
			}
		})
	}
}
