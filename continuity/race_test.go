package continuity

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAFreezeLeavesAnAcceptMadeMeanwhile: a gate's look freezes the store
// (keys evicted; another epoch where it had seen users) while an admin
// accepts the store's state, in every interleaving of their reads of the
// epoch record, on Badger and on a real Redis. An accept that answered
// success stands (the store holds its epoch); one refused (ErrChanged)
// leaves the freeze; the look ends without error. (Before, the look wrote
// its freeze from the record it had read before the accept: the accept
// vanished under the epoch it had replaced, frozen again, while the admin
// was told it was done.)
func TestAFreezeLeavesAnAcceptMadeMeanwhile(t *testing.T) {
	t.Parallel()
	redis := redistest.Server(t)
	for name, why := range map[string]string{"Evicted": Evicted, "Replaced": Replaced} {
		for _, kind := range []string{"badger", "redis"} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				var st store.Store
				if kind == "badger" {
					st = badger(t)
				} else {
					var closeRedis func() error
					var err error
					if st, closeRedis, err = store.OpenRedis(&store.Redis{Addresses: []string{redis}, KeyPrefix: t.Name() + ":"}); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = closeRedis() })
				}
				il := &storetest.Interleaver{Store: st}
				interleavings := il.Interleave(t, func() storetest.Pair {
					gate, admin := freezingLook(t, st, il, why)
					var errLook, errAccept error
					return storetest.Pair{Key: Key,
						A: func(ctx context.Context) { _, errLook = gate.Check(ctx) },
						B: func(ctx context.Context) { _, errAccept = admin.Accept(ctx, "accept-store", true) },
						Check: func() {
							raw, err := st.Get(ctx, Key)
							if err != nil {
								t.Fatal(err)
							}
							rec, err := Decode(raw)
							switch {
							case errLook != nil || err != nil:
								t.Errorf("the look: %v; the record: %v", errLook, err)
							case errAccept == nil && rec.ID != admin.rec.ID:
								t.Errorf("an accept that answered success is gone: the store holds %+v (frozen %+v), not the accepted epoch", rec, rec.Frozen)
							case errAccept == nil && why == Replaced && rec.Frozen != nil:
								// (Evictions the look counted may freeze the accepted
								// epoch again: the gate cannot tell them from ones
								// after the accept, and fails closed.)
								t.Errorf("an accept that answered success is frozen again: %+v", rec.Frozen)
							case errAccept != nil && (!errors.Is(errAccept, ErrChanged) || rec.Frozen == nil || rec.Frozen.Reason != why):
								t.Errorf("a refused accept (%v) left %+v (frozen %+v), not the freeze", errAccept, rec, rec.Frozen)
							}
						}}
				})
				if interleavings < 2 {
					t.Fatalf("%d interleavings: the look and the accept do not both read the record", interleavings)
				}
			})
		}
	}
}

// freezingLook readies a gate whose next look freezes st for why, and an
// admin's gate, both on il, with memories of their own.
func freezingLook(t *testing.T, st store.Store, il *storetest.Interleaver, why string) (gate, admin *Watch) {
	t.Helper()
	put := func(rec Record) {
		raw, _ := json.Marshal(rec)
		if err := st.Put(ctx, Key, raw, 0); err != nil {
			t.Fatal(err)
		}
	}
	put(Record{ID: newID(), Created: time.Now().UTC(), Users: true})
	evicted := int64(0)
	gate, _, err := Open(ctx, il, Options{Identity: storeID(t),
		Evicted: func(context.Context) (int64, error) { return evicted, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if why == Evicted {
		evicted = 3
	} else {
		put(Record{ID: newID(), Created: time.Now().UTC()}) // made by a gate that remembered nothing
	}
	if admin, _, err = Open(ctx, il, Options{Identity: storeID(t)}); err != nil {
		t.Fatal(err)
	}
	return gate, admin
}
