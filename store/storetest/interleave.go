package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Interleaver wraps a store to run two changes of one record in orders
// chosen in advance instead of hoped for from timing: Interleave holds one
// change right after a read of the record until the other has returned,
// for each of its reads in turn, each way round. A change that reads the
// record and writes it back in two steps then loses the other's change
// every time; one made with Store.Update (whose write fails when the
// record changed since its read, and which then calls the change again)
// loses nothing. It tries each place a real race could land, on any
// store, in a handful of runs, where racing goroutines finds a lost
// update in one run of hundreds, or never.
//
// Every operation but the held change's reads passes straight through.
// The wrapper is no store.Batcher: a batch runs one operation after
// another, as store.Do allows.
type Interleaver struct {
	store.Store

	mu      sync.Mutex
	key     string // the record watched
	at      int    // the read of it to hold at (from 1)
	reads   int    // the held change's reads of it so far
	reached chan struct{}
	release chan struct{}
}

// Pair is two changes of the record at Key, A and B, each given the
// context to use for the store, and Check, called once both have
// returned.
type Pair struct {
	Key   string
	A, B  func(ctx context.Context)
	Check func()
}

// Interleave runs two changes in every interleaving of their reads of a
// record: A held after its first read, its second, … until it makes no
// more, then B held the same way, each run on a pair next readies. It
// returns how many runs held one of them; fewer than two means the
// changes do not both read the record, and nothing was raced.
func (il *Interleaver) Interleave(t testing.TB, next func() Pair) int {
	t.Helper()
	held := 0
	for _, heldB := range []bool{false, true} {
		for n := 1; ; n++ {
			p := next()
			a, b := p.A, p.B
			if heldB {
				a, b = b, a
			}
			reached := il.race(t, p.Key, n, a, b)
			p.Check()
			if !reached {
				break
			}
			held++
		}
	}
	return held
}

type heldKey struct{}

// race runs a, held right after its n-th read of key until b has
// returned, and reports whether a reached that read; when it did not, a
// ran to its end and b after it. A b that cannot finish while a is held
// (it waits for something a holds) fails t after a minute, and a goes on.
func (il *Interleaver) race(t testing.TB, key string, n int, a, b func(ctx context.Context)) bool {
	t.Helper()
	reached, release := make(chan struct{}), make(chan struct{})
	il.mu.Lock()
	il.key, il.at, il.reads, il.reached, il.release = key, n, 0, reached, release
	il.mu.Unlock()
	aDone := make(chan struct{})
	go func() {
		defer close(aDone)
		a(context.WithValue(context.Background(), heldKey{}, il))
	}()
	select {
	case <-aDone:
		b(context.Background())
		return false
	case <-reached:
	}
	bDone := make(chan struct{})
	go func() {
		defer close(bDone)
		b(context.Background())
	}()
	select {
	case <-bDone:
	case <-time.After(time.Minute):
		t.Errorf("held after its read %d of %s, one change kept the other from finishing", n, key)
	}
	close(release)
	<-aDone
	<-bDone
	return true
}

// read notes a read of key by ctx's caller, holding it there if it is
// the read race asked for.
func (il *Interleaver) read(ctx context.Context, key string) {
	if ctx.Value(heldKey{}) != il {
		return
	}
	il.mu.Lock()
	hold := false
	if key == il.key {
		il.reads++
		hold = il.reads == il.at
	}
	reached, release := il.reached, il.release
	il.mu.Unlock()
	if hold {
		close(reached)
		<-release
	}
}

// Get implements store.Store.
func (il *Interleaver) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := il.Store.Get(ctx, key)
	il.read(ctx, key)
	return v, err
}

// Take implements store.Store.
func (il *Interleaver) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := il.Store.Take(ctx, key)
	il.read(ctx, key)
	return v, err
}

// Update implements store.Store: each call of change follows a read.
func (il *Interleaver) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	return il.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		il.read(ctx, key)
		return change(old, found)
	})
}

// Claim implements store.Claimer: the store's own claim, one step that
// nothing holds.
func (il *Interleaver) Claim(ctx context.Context, parts []*store.Op) (bool, error) {
	return store.ClaimOn(ctx, il.Store, parts)
}
