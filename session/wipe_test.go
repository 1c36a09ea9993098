package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// wipeable is a Redis without persistence (its Restart forgets every
// record) and the store on it.
func wipeable(t *testing.T) (*redistest.Redis, store.Store) {
	t.Helper()
	r := redistest.Start(t)
	st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{r.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeStore() })
	return r, st
}

// managerOf is a gate's manager of realm on st, its secret fixed (a
// gate opened later reads its sessions), its clock *now.
func managerOf(t *testing.T, st store.Store, realm string, now *time.Time) *Manager {
	t.Helper()
	m, err := NewManager(context.Background(), Config{Store: st, Realm: realm, Secret: []byte("a secret of thirty-two bytes, ok"),
		Lifetime: time.Hour, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAWipedStoreBringsNoRevokedSessionBack: Redis restarts without
// persistence and forgets every revocation record. A session logged out,
// and one of a user whose sessions all ended (a sign-out everywhere, an
// admin's reset), must not come back: the gate that read the revocations
// refuses them from what the log told it, at once (before it notices the
// wipe), and puts the records back when it notices, so that a gate that
// knew nothing of them (another instance, one started later) refuses
// them too. Sessions not revoked, and the user's sign-in after the
// sign-out everywhere, go on.
func TestAWipedStoreBringsNoRevokedSessionBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st := wipeable(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	open := func() *Manager { return managerOf(t, st, "wipe.example", &now) }
	a := open()
	issue := func(user string) string {
		tok, err := a.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	loggedOut, everywhere, kept := issue("alice"), issue("bob"), issue("carol")
	cl, err := a.Verify(loggedOut)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, loggedOut, cl); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second)
	again := issue("bob") // bob signs in again after his sign-out everywhere
	a.poll(ctx)           // the log read, as every second

	r.Restart() // every record gone
	a.FlushCache()
	check := func(who string, m *Manager) {
		t.Helper()
		for _, c := range []struct {
			name, tok string
			live      bool
		}{{"the logged-out session", loggedOut, false}, {"bob's session ended everywhere", everywhere, false},
			{"carol's session", kept, true}, {"bob's sign-in after it", again, true}} {
			if got := m.Check(ctx, c.tok) != nil; got != c.live {
				t.Errorf("%s: %s admitted %t after the wipe, want %t", who, c.name, got, c.live)
			}
		}
	}
	check("the gate that read the revocations, before it noticed the wipe", a)

	// The gate notices (the log's counter went back) and puts back what it knew.
	a.poll(ctx)
	check("the gate that read the revocations, after it noticed", a)
	check("a gate that knew nothing of them", open())
}

// lost is a store whose revocation log lost its newest entry, as a Redis
// replica promoted before the old master's last writes reached it.
type lost struct{ store.Store }

func (l lost) Counter(ctx context.Context, key string) (int64, error) {
	n, err := l.Store.Counter(ctx, key)
	return n - 1, err
}

// TestALostLogEntryIsPutBack: a gate writes a logout to the log and, before
// it reads the log again, the store loses the entry and the record (a
// failover). The log's counter is now no lower than what the gate read
// before, but lower than what it wrote: the gate puts the record back.
func TestALostLogEntryIsPutBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, base := newManager(t, "HS256", &now)
	tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := m.Verify(tok)
	if _, err := m.Revoke(ctx, tok, cl); err != nil {
		t.Fatal(err)
	}
	if err := base.Delete(ctx, endkeys.Session(m.realm, cl.SID)); err != nil {
		t.Fatal(err)
	}
	m.store = lost{base}
	m.poll(ctx)
	if _, err := base.Get(ctx, endkeys.Session(m.realm, cl.SID)); err != nil {
		t.Fatalf("the lost revocation was not put back: %v", err)
	}
}

// revokedDuringRead is a store on which a revocation of this process
// lands while the poll reads the log's counter (once): after the counter
// answered, before the poll looks at what this process wrote.
type revokedDuringRead struct {
	store.Store
	during func()
}

func (s *revokedDuringRead) Counter(ctx context.Context, key string) (int64, error) {
	n, err := s.Store.Counter(ctx, key)
	if during := s.during; during != nil && key == RevocationCounter {
		s.during = nil
		during()
	}
	return n, err
}

// TestALogoutDuringAPollIsNoLostEntry: a logout of this process is written
// to the log while a poll reads the counter. The counter the poll read is
// below the entry just written, yet nothing was lost: the poll must not
// take it for a failover (a warning to the operator, and every revocation
// the gate knows written again).
func TestALogoutDuringAPollIsNoLostEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := storetest.Badger(t)
	core, logs := observer.New(zap.InfoLevel)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st := &revokedDuringRead{Store: base}
	m, err := NewManager(ctx, Config{Store: st, Realm: "during.example", Lifetime: time.Hour, Logger: zap.New(core), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	awaitingPolls(m)
	logout := func() {
		tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		cl, _ := m.Verify(tok)
		if _, err := m.Revoke(ctx, tok, cl); err != nil {
			t.Fatal(err)
		}
	}
	logout()
	m.poll(ctx)
	st.during = logout
	m.poll(ctx)
	if lost := logs.FilterMessageSnippet("lost revocations").Len(); lost != 0 {
		t.Fatalf("a logout during a poll was taken for lost entries: %v", logs.All())
	}
	m.poll(ctx)
	if m.seen.Load() != 2 {
		t.Fatalf("the log read up to %d, want 2", m.seen.Load())
	}
}

// TestPutBackWritesEveryRecordInBatches: a gate that knew of more
// revoked sessions than one batch holds (putBackBatch) puts every one of
// them back into a store that forgot them, in a round trip a batch.
func TestPutBackWritesEveryRecordInBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, base := newManager(t, "HS256", &now)
	const n = 2*putBackBatch + 1
	for i := range n {
		m.covered.add(now, revocation{Realm: m.realm, SID: fmt.Sprintf("s%d", i)}, time.Hour)
	}
	m.putBack(ctx)
	for i := range n {
		if _, err := base.Get(ctx, endkeys.Session(m.realm, fmt.Sprintf("s%d", i))); err != nil {
			t.Fatalf("session s%d of %d was not put back: %v", i, n, err)
		}
	}
}

// TestAnEndedTrustIsPutBackWithoutExpiry: a trust's end, put back by a
// gate that knew of it (into a store that forgot it, or over the record
// still there), lasts as the record the end wrote does, without expiry,
// on a real Redis: the sessions the trust signed while it ended may be
// another gate's, with a longer session_lifetime than this gate knows
// (endkeys.Trust). Before, the put-back wrote this gate's lifetime as
// the record's TTL, over the record still there too.
func TestAnEndedTrustIsPutBackWithoutExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeRedis() })
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Secret: []byte("a secret of thirty-two bytes, no less"),
		Alg: "HS256", Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	awaitingPolls(m)
	key := endkeys.Trust(m.realm, "T1")
	if err := st.Put(ctx, key, []byte{1}, 0); err != nil { // as the end wrote it
		t.Fatal(err)
	}
	m.covered.add(now, revocation{Realm: m.realm, Trust: "T1"}, time.Hour)
	for _, lost := range []bool{false, true} {
		if lost {
			if err := st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		m.putBack(ctx) // then read under the store's default key_prefix
		if ttl, err := st.(*store.Redis).Client().TTL(ctx, "smsgate:"+key).Result(); err != nil || ttl != -1 {
			t.Errorf("the trust's end put back (the store had lost it: %v): TTL %v %v, want none (-1)", lost, ttl, err)
		}
	}
}
