package session

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// racingStore runs after once, right after the first Get of key has read
// the store: what another request does while this one is between the
// store's answer and its next step.
type racingStore struct {
	store.Store
	key   string
	fired atomic.Bool // not a sync.Once: after may read key again (RevokeUser reads it)
	after func()
}

func (s *racingStore) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.Store.Get(ctx, key)
	if key == s.key && s.fired.CompareAndSwap(false, true) {
		s.after()
	}
	return v, err
}

// TestARevocationDuringACheckIsNotCachedOver: a session verified against
// the store just before it is revoked (a sign-out everywhere, an admin's
// reset) and whose revocation, with the poll that reads it, lands between
// the store's answer and the cache (the checking request descheduled for
// a moment) is not cached: else the gate serves it from its cache until it
// expires, every poll after having nothing more to say of it.
func TestARevocationDuringACheckIsNotCachedOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	inner := storetest.Badger(t)
	st := &racingStore{Store: inner}
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	m.FlushCache() // a session this gate has not cached (signed in at another)
	st.key = endkeys.User("example.com", "alice")
	st.after = func() {
		if err := RevokeUser(ctx, st, "example.com", "alice", now.Add(time.Second), nil); err != nil {
			t.Error(err)
		}
		// Another request polls the revocation log meanwhile.
		m.poll(ctx)
	}
	m.Check(ctx, tok) // read before the revocation: the request in flight may pass
	m.poll(ctx)
	if cl := m.Check(ctx, tok); cl != nil {
		t.Fatalf("a session revoked while it was being checked is still served (%s)", cl.Subject)
	}
}

// TestARevocationDuringASignInIsNotCachedOver: a sign-out everywhere (an
// admin's reset) that covers a new session's iat, and is applied here
// (its news polled) after that iat was chosen but before the session is in
// the cache, leaves the session uncached: else the cache, which it already
// forgot the user's sessions in, serves the revoked session until it
// expires. The sign-in itself may pass, as a check in flight does.
func TestARevocationDuringASignInIsNotCachedOver(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"Issue", "IssueTrusted"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			now := time.Now()
			st := storetest.Badger(t)
			// The clock is read when the iat is chosen: the revocation lands
			// right then, once.
			var armed atomic.Bool
			var m *Manager
			clockNow := func() time.Time {
				if armed.Swap(false) {
					if err := RevokeUser(ctx, st, "example.com", "alice", now.Add(time.Second), nil); err != nil {
						t.Error(err)
					}
					m.poll(ctx) // this gate's poll reads its news meanwhile
				}
				return now
			}
			var err error
			m, err = NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: clockNow})
			if err != nil {
				t.Fatal(err)
			}
			tb := madeTrust(t, m, "alice", []factor.AMR{factor.AMRSMS}, now.Unix())
			armed.Store(true)
			var tok string
			if kind == "Issue" {
				tok, err = m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			} else {
				tok, _, err = m.IssueTrusted(ctx, Began{}, "alice", tb, Where{})
			}
			if err != nil || tok == "" {
				t.Fatalf("the sign-in itself failed: %q, %v", tok, err)
			}
			if armed.Load() {
				t.Fatal("the revocation never landed during the sign-in")
			}
			m.poll(ctx)
			if cl := m.Check(ctx, tok); cl != nil {
				t.Fatalf("a session revoked while it was being signed is still served (%s)", cl.Subject)
			}
		})
	}
}
