package session

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// holdFirstKeyGet holds its first read of key 1, once armed, until released.
type holdFirstKeyGet struct {
	store.Store
	armed   atomic.Bool
	reached chan struct{}
	release chan struct{}
}

func (h *holdFirstKeyGet) Get(ctx context.Context, key string) ([]byte, error) {
	if key == edKeyName(1) && h.armed.CompareAndSwap(true, false) {
		close(h.reached)
		<-h.release
	}
	return h.Store.Get(ctx, key)
}

// TestAKeyLoadBegunBeforeANewSecretKeepsNoOldKey (final16 L-1): a load
// of the EdDSA keys begun under the old secret (a verify of an unknown
// kid, a rotation) that ends after the gate adopted a new one put the old
// secret's key back, and the gate signed and verified with it until its
// next look at the store. Now a load whose secret changed meanwhile loads
// again.
func TestAKeyLoadBegunBeforeANewSecretKeepsNoOldKey(t *testing.T) {
	t.Parallel()
	st := &holdFirstKeyGet{Store: storetest.Badger(t), reached: make(chan struct{}), release: make(chan struct{})}
	ctx := context.Background()
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: "EdDSA", Lifetime: 24 * time.Hour, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	st.armed.Store(true)
	done := make(chan struct{})
	go func() { defer close(done); _ = m.ring.load(ctx) }()
	<-st.reached
	if err := NewSecret(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	close(st.release)
	<-done
	m.ring.mu.RLock()
	defer m.ring.mu.RUnlock()
	for _, k := range m.ring.keys {
		if !bytes.Equal(k.bound, m.ring.bound()) {
			t.Errorf("the gate holds key %d of the old secret after adopting the new one", k.n)
		}
	}
}
