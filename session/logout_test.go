package session

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// noCounter fails the revocation log's counter while off is set: a store
// fault between a logout's record and its announcement.
type noCounter struct {
	store.Store
	off atomic.Bool
}

func (s *noCounter) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if s.off.Load() {
		return 0, errDown
	}
	return s.Store.Incr(ctx, key, ttl)
}

// TestLogoutTellsOfItsEndOnce: the audit's signed_out follows Revoke's
// ended, which must be true exactly once for a real logout. A logout whose
// store failed between its two writes answered 503 and told nobody, and
// its next try found the record and said not ended: the sign-out was never
// audited. And a session that had already ended (a sign-out everywhere,
// the admin's End) is not ended again by its old cookie's logout.
func TestLogoutTellsOfItsEndOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	base := storetest.Badger(t)
	st := &noCounter{Store: base}
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	awaitingPolls(m)
	issue := func(user string) (string, *Claims) {
		tok, err := m.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := m.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		return tok, cl
	}
	ends := func(tok string, cl *Claims, tries int) (n int) {
		for range tries {
			ended, err := m.Revoke(ctx, tok, cl)
			if err != nil {
				t.Fatal(err)
			}
			if ended {
				n++
			}
		}
		return n
	}

	// A fault between the writes, then the user's next try.
	tok, cl := issue("alice")
	st.off.Store(true)
	if ended, err := m.Revoke(ctx, tok, cl); err == nil || ended {
		t.Fatalf("a logout that could not announce: ended %v, %v; want an error", ended, err)
	}
	st.off.Store(false)
	if n := ends(tok, cl, 3); n != 1 {
		t.Errorf("a logout tried again after a fault between its writes (then replayed) ended its session %d times, want 1", n)
	}
	if m.Check(ctx, tok) != nil {
		t.Error("the session signed out is admitted")
	}

	// Signed out everywhere first, then the old cookie's logout.
	tok, cl = issue("bob")
	now = now.Add(time.Second)
	if err := m.RevokeUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if n := ends(tok, cl, 2); n != 0 {
		t.Errorf("a session signed out everywhere before was ended %d times by its cookie's logout, want 0", n)
	}

	// Ended by the admin first.
	tok, cl = issue("carol")
	if _, err := End(ctx, st, "example.com", "carol", cl.SID, now); err != nil {
		t.Fatal(err)
	}
	if n := ends(tok, cl, 2); n != 0 {
		t.Errorf("a session the admin ended was ended %d times by its cookie's logout, want 0", n)
	}
}
