package session

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestReconcileSecret: when the store loses the secret, a gate puts its own
// back; when another gate wrote a new one, the gate adopts it — its
// sessions, trusts and derived keys follow, and what the old secret signed
// is refused. A configured secret is left alone.
func TestReconcileSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []string{"HS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			m, st := newManager(t, alg, &now)
			var told [][]byte
			m.OnNewSecret(func(s []byte) { told = append(told, s) })
			old := m.Secret()
			tok, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			if m.Check(ctx, tok) == nil {
				t.Fatal("a new session is refused")
			}
			if ch, err := m.Reconcile(ctx); err != nil || ch != SecretKept {
				t.Fatalf("nothing changed: %v, %v", ch, err)
			}

			// Wiped: the gate puts its secret (and keys) back; sessions go on.
			wipe(t, st)
			if ch, err := m.Reconcile(ctx); err != nil || ch != SecretRestored {
				t.Fatalf("after a wipe: %v, %v; want restored", ch, err)
			}
			if got, _ := st.Get(ctx, SecretRecord); !bytes.Equal(got, old) {
				t.Fatal("the store's secret is not the gate's")
			}
			other, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: alg, Lifetime: time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			awaitingPolls(other)
			if m.Check(ctx, tok) == nil || other.Check(ctx, tok) == nil {
				t.Fatal("a session from before the wipe is refused, with the secret put back")
			}

			// Another gate made a new secret (and keys) meanwhile: adopted.
			wipe(t, st)
			fresh, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: alg, Lifetime: time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			awaitingPolls(fresh)
			if ch, err := m.Reconcile(ctx); err != nil || ch != SecretAdopted {
				t.Fatalf("a new secret in the store: %v, %v; want adopted", ch, err)
			}
			if !bytes.Equal(m.Secret(), fresh.Secret()) || len(told) != 1 || !bytes.Equal(told[0], fresh.Secret()) {
				t.Fatal("the gate did not take the store's secret, or did not tell")
			}
			if m.Check(ctx, tok) != nil {
				t.Fatal("a session signed with the old keys still passes")
			}
			newTok, _ := fresh.Issue(ctx, "bob", nil, Where{})
			if m.Check(ctx, newTok) == nil {
				t.Fatal("the new gate's session is refused by the one that adopted its secret")
			}
			mine, _ := m.Issue(ctx, "carol", nil, Where{})
			if fresh.Check(ctx, mine) == nil {
				t.Fatal("the adopting gate's new session is refused by the new gate")
			}
		})
	}
}

// wipe empties the store, as a Redis restarted without persistence is.
func wipe(t *testing.T, st store.Store) {
	t.Helper()
	var keys []string
	_ = st.Scan(context.Background(), "", func(k string, _ []byte) error { keys = append(keys, k); return nil })
	for _, k := range keys {
		if err := st.Delete(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConfiguredSecretIsLeftAlone: a secret from the config is not the
// store's to change.
func TestConfiguredSecretIsLeftAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st := storetest.Badger(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Secret: secret, Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	awaitingPolls(m)
	_ = st.Put(ctx, SecretRecord, bytes.Repeat([]byte{7}, 32), 0)
	if ch, err := m.Reconcile(ctx); err != nil || ch != SecretKept || !bytes.Equal(m.Secret(), secret) {
		t.Fatalf("a configured secret: %v, %v", ch, err)
	}
}

// secretLooks is a store that tells (looked) when the secret has been
// looked for and not found.
type secretLooks struct {
	store.Store
	once   sync.Once
	looked chan struct{}
}

func (s *secretLooks) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.Store.Get(ctx, key)
	if key == SecretRecord && errors.Is(err, store.ErrNotFound) {
		s.once.Do(func() { close(s.looked) })
	}
	return v, err
}

// TestStartAwaitsARestoredSecret: a gate starting on a store that lost its
// secret waits for a running instance to put its own back, instead of
// making a second one that would split the instances. The running one
// puts it back once the starting one has looked and not found it; the
// wait is a minute, which the test does not spend (it ends at the next
// look), so that a loaded machine's late goroutine is not taken for no
// running instance.
func TestStartAwaitsARestoredSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := storetest.Badger(t)
	st := &secretLooks{Store: base, looked: make(chan struct{})}
	running := bytes.Repeat([]byte{9}, 32)
	put := make(chan struct{})
	go func() {
		defer close(put)
		<-st.looked
		_, _ = base.PutIfAbsent(ctx, SecretRecord, running, 0)
	}()
	defer func() { st.once.Do(func() { close(st.looked) }); <-put }()
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", AwaitSecret: time.Minute, Lifetime: time.Hour, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Secret(), running) {
		t.Fatal("the starting gate made its own secret instead of waiting for the running one's")
	}
}
