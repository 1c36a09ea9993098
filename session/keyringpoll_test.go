package session

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

type countKeyGets struct {
	store.Store
	n atomic.Int64
}

func (c *countKeyGets) Get(ctx context.Context, key string) ([]byte, error) {
	if key == edKeyName(1) {
		c.n.Add(1)
		time.Sleep(2 * time.Millisecond) // a store round trip
	}
	return c.Store.Get(ctx, key)
}

// TestUnknownKidsLoadTheKeysOncePerPoll (review19 L-M1): a stranger's
// burst of forged kids while the keys are stale ran one load each (64 at
// once: 64 loads). Now one load runs, and the others wait for its keys.
// Serial: its 64 goroutines must overlap within a 2 ms round trip, which
// other tests at once on the cores would make rarer.
func TestUnknownKidsLoadTheKeysOncePerPoll(t *testing.T) {
	st := &countKeyGets{Store: storetest.Badger(t)}
	m, err := NewManager(context.Background(), Config{Store: st, Realm: "example.com", Alg: "EdDSA", Lifetime: 24 * time.Hour, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	forgets := m.cache.Forgets()
	m.ring.mu.Lock()
	m.ring.loadedAt = time.Time{}
	m.ring.mu.Unlock()
	st.n.Store(0)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = m.ring.verifying("ed99-forged") }()
	}
	wg.Wait()
	t.Logf("64 concurrent forged kids: %d key loads; cache flushed: %v", st.n.Load(), m.cache.Forgets() != forgets)
	if st.n.Load() > 1 {
		t.Errorf("%d loads of the keys for one burst of forged kids (one per RevocationPoll promised)", st.n.Load())
	}
}

// holdLoad holds the first read of key 2 once armed, until released.
type holdLoad struct {
	store.Store
	armed            atomic.Bool
	reached, release chan struct{}
}

func (h *holdLoad) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := h.Store.Get(ctx, key)
	if key == edKeyName(2) && h.armed.CompareAndSwap(true, false) {
		close(h.reached) // key 2 read as none: the load then commits {1}
		<-h.release
	}
	return v, err
}

// TestALoadOvertakenByARotationKeepsItsOlderKeys (review19 L2): a load
// (a forged kid's) that read the keys before a rotation committed after
// the rotation's load: the new key counted as "gone", the cache was
// emptied and the gate signed with the older key again (nothing was
// replaced). Now a load overtaken by a later one keeps its view to itself.
func TestALoadOvertakenByARotationKeepsItsOlderKeys(t *testing.T) {
	t.Parallel()
	st := &holdLoad{Store: storetest.Badger(t), reached: make(chan struct{}), release: make(chan struct{})}
	ctx := context.Background()
	now := time.Now()
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: "EdDSA", Lifetime: 24 * time.Hour, Rotation: time.Hour,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Check(ctx, tok) == nil {
		t.Fatal("refused")
	}
	forgets := m.cache.Forgets()
	st.armed.Store(true)
	done := make(chan struct{})
	go func() { defer close(done); _ = m.ring.load(ctx) }() // read key 1, held at key 2 (none yet)
	<-st.reached
	clock.Add(int64(2 * time.Hour))                // rotation due
	if _, _, err := m.ring.signing(); err != nil { // creates key 2 and loads {1,2}
		t.Fatal(err)
	}
	close(st.release)
	<-done
	m.ring.mu.RLock()
	n := len(m.ring.keys)
	m.ring.mu.RUnlock()
	t.Logf("keys held after: %d; cache flushed: %v", n, m.cache.Forgets() != forgets)
	if m.cache.Forgets() != forgets {
		t.Error("a rotation raced by a stale load emptied the cache (no key was replaced)")
	}
	if n != 2 {
		t.Errorf("the gate holds %d keys after the rotation, not its 2", n)
	}
}
