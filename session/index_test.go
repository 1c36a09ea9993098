package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// bothStores is a Badger on disk and a real redis-server, each with its
// own folder or server.
func bothStores(t *testing.T) map[string]store.Store {
	t.Helper()
	badger := storetest.Badger(t)
	redis, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeRedis() })
	return map[string]store.Store{"badger": badger, "redis": redis}
}

// indexSpy is a store that counts the operations on session indexes, and
// can make writing them fail.
type indexSpy struct {
	store.Store
	touched atomic.Int64
	fail    atomic.Bool
}

func (s *indexSpy) spy(key string) bool {
	if strings.HasPrefix(key, "sessions/") {
		s.touched.Add(1)
		return true
	}
	return false
}

func (s *indexSpy) Get(ctx context.Context, key string) ([]byte, error) {
	s.spy(key)
	return s.Store.Get(ctx, key)
}

func (s *indexSpy) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if s.spy(key) && s.fail.Load() {
		return errDown
	}
	return s.Store.Update(ctx, key, change)
}

func (s *indexSpy) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	s.spy(key)
	return s.Store.Put(ctx, key, v, ttl)
}

func (s *indexSpy) Delete(ctx context.Context, key string) error {
	s.spy(key)
	return s.Store.Delete(ctx, key)
}

// TestSessionIndex, on Badger and on a real Redis: a user's sessions are
// listed newest first with when, how and where; an admin ends one (it is
// refused at another gate within the revocation poll, the other is not),
// a logout and a sign-out everywhere take theirs out; the expired go; at
// most MaxListed are kept.
func TestSessionIndex(t *testing.T) {
	t.Parallel()
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			open := func() *Manager {
				m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Secret: []byte("a secret of thirty-two bytes, no less"),
					Alg: "HS256", Lifetime: time.Hour, Remember: gatesRemember, Now: clock})
				if err != nil {
					t.Fatal(err)
				}
				awaitingPolls(m)
				return m
			}
			a, b := open(), open()
			laptop, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Host: "wiki.example.com", Browser: "Firefox", System: "Linux"})
			if err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Minute)
			phone, _, _ := a.IssueTrusted(ctx, Began{}, "alice", madeTrust(t, a, "alice", []factor.AMR{factor.AMROTP}, now.Add(-time.Hour).Unix()),
				Where{Host: strings.Repeat("h", 200), Browser: "Safari", System: "iOS"})
			list, err := Sessions(ctx, st, "example.com", "alice", now)
			if err != nil || len(list) != 2 {
				t.Fatalf("listed %+v, %v; want two", list, err)
			}
			if l := list[1]; l.Where.Browser != "Firefox" || l.Where.Host != "wiki.example.com" || l.AMR[0] != "sms" || l.Trusted ||
				!l.Issued.Equal(now.Add(-time.Minute)) || !l.Expires.Equal(now.Add(59*time.Minute)) {
				t.Fatalf("the laptop's session: %+v", l)
			}
			if l := list[0]; !l.Trusted || l.AMR[0] != "otp" || len(l.Where.Host) != maxWhere {
				t.Fatalf("the phone's session (newest first, its host cut short): %+v", l)
			}
			if b.Check(ctx, laptop) == nil || b.Check(ctx, phone) == nil {
				t.Fatal("both sessions, before any end")
			}

			// The admin ends the phone's: refused at b after the poll.
			if _, err := End(ctx, st, "example.com", "alice", list[0].SID, now); err != nil {
				t.Fatal(err)
			}
			if _, err := End(ctx, st, "example.com", "alice", list[0].SID, now); !errors.Is(err, ErrNoSession) {
				t.Fatalf("ending it again: %v", err)
			}
			if _, err := End(ctx, st, "example.com", "bob", list[1].SID, now); !errors.Is(err, ErrNoSession) {
				t.Fatalf("ending alice's session as bob's: %v", err)
			}
			now = now.Add(RevocationPoll)
			if b.Check(ctx, phone) != nil || b.Check(ctx, laptop) == nil {
				t.Fatal("after ending the phone's session: the phone is still in, or the laptop is out")
			}
			if list, _ = Sessions(ctx, st, "example.com", "alice", now); len(list) != 1 || list[0].Where.Browser != "Firefox" {
				t.Fatalf("after the end: %+v", list)
			}

			// A logout takes its own out.
			cl, _ := a.Verify(laptop)
			if _, err := a.Revoke(ctx, laptop, cl); err != nil {
				t.Fatal(err)
			}
			if list, _ = Sessions(ctx, st, "example.com", "alice", now); len(list) != 0 {
				t.Fatalf("after the logout: %+v", list)
			}

			// A sign-out everywhere ends those before it, not one after.
			a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: "Chrome"})
			now = now.Add(time.Second)
			if err := a.RevokeUser(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Second)
			a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: "Edge"})
			if list, _ = Sessions(ctx, st, "example.com", "alice", now); len(list) != 1 || list[0].Where.Browser != "Edge" {
				t.Fatalf("after a sign-out everywhere and a new sign-in: %+v", list)
			}

			// The expired go; at most MaxListed, the newest.
			now = now.Add(time.Hour)
			if list, _ = Sessions(ctx, st, "example.com", "alice", now); len(list) != 0 {
				t.Fatalf("after an hour: %+v", list)
			}
			for i := range MaxListed + 5 {
				a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: fmt.Sprint(i)})
			}
			list, _ = Sessions(ctx, st, "example.com", "alice", now)
			if len(list) != MaxListed || list[0].Where.Browser != fmt.Sprint(MaxListed+4) || list[MaxListed-1].Where.Browser != "5" {
				t.Fatalf("%d listed, %s to %s; want the newest %d", len(list), list[0].Where.Browser, list[len(list)-1].Where.Browser, MaxListed)
			}
		})
	}
}

// TestIndexOffTheCheckPath: checking a session neither reads nor writes
// the index, and a sign-in stands when the index cannot be written.
func TestIndexOffTheCheckPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	base := storetest.Badger(t)
	spy := &indexSpy{Store: base}
	open := func() *Manager {
		m, err := NewManager(ctx, Config{Store: spy, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		awaitingPolls(m)
		return m
	}
	a, b := open(), open()
	tok, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil || spy.touched.Load() == 0 {
		t.Fatalf("the sign-in: %v; %d index operations", err, spy.touched.Load())
	}
	spy.touched.Store(0)
	for range 3 {
		if b.Check(ctx, tok) == nil { // uncached, then cached
			t.Fatal("the session is refused")
		}
		now = now.Add(RevocationPoll)
	}
	if n := spy.touched.Load(); n != 0 {
		t.Fatalf("checking a session touched the index %d times", n)
	}

	spy.fail.Store(true)
	tok, err = a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil || b.Check(ctx, tok) == nil {
		t.Fatalf("a sign-in with the index failing: %v", err)
	}
	spy.fail.Store(false)
	if err := RevokeUser(ctx, spy, "example.com", "alice", now, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(RevocationPoll)
	if b.Check(ctx, tok) != nil {
		t.Fatal("an unlisted session outlived a sign-out everywhere")
	}
}

// TestStoreWithoutIndex: a store an older release wrote has sessions and
// no index. Nothing is listed, an end is told there is no such session,
// and RevokeUser still ends them.
func TestStoreWithoutIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, st := newManager(t, "HS256", &now)
	tok, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	list, _ := Sessions(ctx, st, "example.com", "alice", now)
	if err := st.Delete(ctx, sessionsKey("example.com", "alice")); err != nil || len(list) != 1 { // as the older release left it
		t.Fatal(err, list)
	}
	if list, err := Sessions(ctx, st, "example.com", "alice", now); err != nil || len(list) != 0 {
		t.Fatalf("listed %+v, %v", list, err)
	}
	if _, err := End(ctx, st, "example.com", "alice", list[0].SID, now); !errors.Is(err, ErrNoSession) {
		t.Fatalf("ending an unlisted session: %v", err)
	}
	if m.Check(ctx, tok) == nil {
		t.Fatal("the older release's session is refused")
	}
	if err := m.RevokeUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(RevocationPoll)
	if m.Check(ctx, tok) != nil {
		t.Fatal("the older release's session outlived a sign-out everywhere")
	}
}

// TestRacingIndex: a sign-in while an admin ends another session of the
// same user, and while the user signs out everywhere, on Badger and a real
// Redis, in every interleaving of their reads of the index
// (storetest.Interleaver) and atOnce times at once: the new session is
// always listed, the ended one never. (With the index's Store.Update made
// a read then a write, each race loses a change on both stores.)
func TestRacingIndex(t *testing.T) {
	t.Parallel()
	raceOnBothStores(t, func(t *testing.T, m *Manager, il *storetest.Interleaver, now time.Time, lost map[string]int) []race {
		ctx := context.Background()
		users := 0
		// A sign-in while an admin ends the user's other session.
		endVsSignIn := func() storetest.Pair {
			users++
			user := fmt.Sprint("user", users)
			m.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{Browser: "old"})
			list, _ := Sessions(ctx, il, "example.com", user, now)
			var errA, errB error
			return storetest.Pair{Key: sessionsKey("example.com", user),
				A: func(ctx context.Context) { _, errA = End(ctx, il, "example.com", user, list[0].SID, now) },
				B: func(ctx context.Context) {
					_, errB = m.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{Browser: "new"})
				},
				Check: func() {
					if errA != nil || errB != nil {
						t.Fatalf("%s: end %v, sign-in %v", user, errA, errB)
					}
					if list, _ := Sessions(ctx, il, "example.com", user, now); len(list) != 1 || list[0].Where.Browser != "new" {
						lost["a sign-in or an end lost to the other"]++
					}
				}}
		}
		// Against a sign-out everywhere: the new session, signed after
		// it (a later second), stays listed, unless listed before the
		// sign-out read her list: then it is ended by its SID with the
		// others (attack28 F2: by the clocks alone it might be a session
		// signed before it at an instance ahead), and not listed.
		signOutVsSignIn := func() storetest.Pair {
			users++
			user := fmt.Sprint("user", users)
			m.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{Browser: "old"})
			later := now.Add(time.Second)
			var errA, errB error
			return storetest.Pair{Key: sessionsKey("example.com", user),
				A: func(ctx context.Context) { errA = RevokeUser(ctx, il, "example.com", user, now, nil) },
				B: func(ctx context.Context) {
					errB = editIndex(ctx, il, "example.com", user, later, func(l []Info) []Info {
						return append(l, Info{SID: "after-" + user, Issued: later, Expires: later.Add(time.Hour)})
					})
				},
				Check: func() {
					if errA != nil || errB != nil {
						t.Fatalf("%s: sign-out %v, sign-in %v", user, errA, errB)
					}
					raw, _ := il.Store.Get(ctx, sessionsKey("example.com", user))
					_, err := il.Store.Get(ctx, endkeys.Session("example.com", "after-"+user))
					ended := err == nil
					if l, _ := liveSessions(raw, now); ended != (len(l) == 0) || !ended && (len(l) != 1 || l[0].SID != "after-"+user) {
						lost["a sign-in lost to a sign-out everywhere, or an ended session kept"]++
					}
				}}
		}
		return []race{{endVsSignIn, 2}, {signOutVsSignIn, 2}}
	})
}
