package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnEndRacingATrustedSignInEndsItsSession: the admin ends a session
// that came with a trusted browser (End: the session, its trust and every
// listed session of that trust) while that browser signs in again by the
// trust (Trusted, then IssueTrusted, as the pages do). Once the end is
// acknowledged, no session of that trust is live, in every interleaving
// of their reads of the user's trusts and atOnce times at once, on Badger and
// on a real Redis. Before, a sign-in that found the trust before the end
// removed it and listed its session after the end had read the list kept
// that session for its lifetime: the stolen browser the admin shut out
// stayed in.
func TestAnEndRacingATrustedSignInEndsItsSession(t *testing.T) {
	t.Parallel()
	raceOnBothStores(t, func(t *testing.T, m *Manager, il *storetest.Interleaver, now time.Time, lost map[string]int) []race {
		ctx := context.Background()
		users := 0
		// thief is a new user's trusted browser (its cookie, its trust) and
		// the session it signed in by the trust.
		thief := func() (user, cookie string, tb *TrustedBrowser, token, sid string) {
			users++
			user = fmt.Sprint("user", users)
			cookie, tb, err := m.TrustHeld(ctx, Began{}, user, "", "", time.Time{}, Where{Browser: "thief"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if token, sid, err = m.IssueTrusted(ctx, Began{}, user, tb, Where{Trust: tb.ID}); err != nil {
				t.Fatal(err)
			}
			return user, cookie, tb, token, sid
		}
		endVsTrustedSignIn := func() storetest.Pair {
			user, cookie, tb, _, first := thief()
			var token, sid string
			var errEnd error
			return storetest.Pair{Key: trustedKey("example.com", user),
				A: func(ctx context.Context) {
					who, tb, err := m.Trusted(ctx, cookie)
					if err != nil {
						return // the end came first: a code, then
					}
					token, sid, _ = m.IssueTrusted(ctx, Began{}, who, tb, Where{Trust: tb.ID})
				},
				B: func(ctx context.Context) { _, errEnd = End(ctx, il, "example.com", user, first, now) },
				Check: func() {
					if errEnd != nil {
						t.Fatalf("%s: end: %v", user, errEnd)
					}
					m.FlushCache()
					if token != "" && m.Uncached(ctx, token) != nil {
						lost["a session the ended trust signed in is live after the end"]++
					}
					if _, err := il.Store.Get(ctx, endedKey("example.com", sid)); token != "" && err != nil {
						lost["the browser of a session the ended trust signed in is still known after the end"]++
					}
					list, err := Sessions(ctx, il, "example.com", user, now)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range list {
						if s.Where.Trust == tb.ID {
							lost["a session of the ended trust is listed live after the end"]++
						}
					}
				}}
		}
		// The end of a session that sign-ins elsewhere push off the list
		// meanwhile (MaxListed of them, as a trusted browser's burst would):
		// it still ends it, and its trust's other session that a release
		// before the tb claim signed (the index's where.trust alone names
		// the trust: no trust's end reaches it), read from the list as it
		// stood when the end began.
		endVsPushedOut := func() storetest.Pair {
			user, _, tb, token, first := thief()
			untagged := beforeTheTrustClaim(t, m, user, tb)
			var errEnd error
			return storetest.Pair{Key: sessionsKey("example.com", user),
				A: func(ctx context.Context) { _, errEnd = End(ctx, il, "example.com", user, first, now) },
				B: func(ctx context.Context) {
					for range MaxListed {
						if _, err := m.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{}); err != nil {
							t.Error(err)
						}
					}
				},
				Check: func() {
					if errors.Is(errEnd, ErrNoSession) {
						return // pushed off before the end began: not listed, nothing ended (end-unlisted ends it)
					}
					if errEnd != nil {
						t.Fatalf("%s: end: %v", user, errEnd)
					}
					m.FlushCache()
					if m.Uncached(ctx, token) != nil {
						lost["the session the admin ended is live, pushed off the list meanwhile"]++
					}
					if m.Uncached(ctx, untagged) != nil {
						lost["a session of the ended trust naming no trust is live, pushed off the list meanwhile"]++
					}
				}}
		}
		return []race{{endVsTrustedSignIn, 2}, {endVsPushedOut, 2}}
	})
}

// beforeTheTrustClaim signs user in again by tb and answers the session's
// token as a release before the tb claim signed it (Claims.Trust nil): the
// index lists it with its trust, but no trust's end record or log entry
// names it, only its own end.
func beforeTheTrustClaim(t *testing.T, m *Manager, user string, tb *TrustedBrowser) string {
	t.Helper()
	token, _, err := m.IssueTrusted(context.Background(), Began{}, user, tb, Where{Trust: tb.ID})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := m.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	cl.Trust = nil
	if token, err = m.keys.Sign(cl); err != nil {
		t.Fatal(err)
	}
	return token
}

// madeTrust makes a trust of user's, earned by amr at authTime, for a test
// that signs in by it (IssueTrusted stands only while its trust does).
func madeTrust(t *testing.T, m *Manager, user string, amr []factor.AMR, authTime int64) *TrustedBrowser {
	t.Helper()
	_, tb, err := m.TrustHeld(context.Background(), Began{}, user, "", "", time.Time{}, Where{Browser: "a browser"}, "", amr, authTime, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestATrustedSignInStandsOnlyListed: a sign-in by a trust whose session
// cannot be written in its user's list (as happens to a burst of them:
// 400 at once, from a script holding the trust's cookie, left 12 of them
// on Badger and 165 on a real Redis neither listed nor counted unlisted,
// store.ErrContended) is refused, so that the admin sees every session a
// trust made and can end it. A sign-in with a code still stands unlisted
// (TestIndexOffTheCheckPath). Before, it stood unlisted.
func TestATrustedSignInStandsOnlyListed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	base := storetest.Badger(t)
	spy := &indexSpy{Store: base}
	m, err := NewManager(ctx, Config{Store: spy, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tb := madeTrust(t, m, "alice", []factor.AMR{factor.AMRSMS}, now.Unix())
	spy.fail.Store(true)
	tok, _, err := m.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID})
	if err == nil || tok != "" {
		t.Fatalf("a trusted sign-in that could not be listed: a session given %v, %v", tok != "", err)
	}
	spy.fail.Store(false)
	if tok, _, err := m.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID}); err != nil || m.Check(ctx, tok) == nil {
		t.Fatalf("a trusted sign-in listed: %v", err)
	}
}

// TestABurstOfTrustedSignInsHidesNoSession: sign-ins by one trust at once,
// on Badger and on a real Redis: every session one of them was given is
// listed or counted unlisted, so that the admin can end it. With
// SMSGATE_FULL=1, 400 at once (before TestATrustedSignInStandsOnlyListed's
// fix: 12 hidden on Badger, 165 on Redis, their writes of the list given
// up under the contention); the suite plays 40, which no store gives up.
func TestABurstOfTrustedSignInsHidesNoSession(t *testing.T) {
	t.Parallel()
	n := 40
	if os.Getenv("SMSGATE_FULL") != "" {
		n = 400
	}
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			tb := madeTrust(t, m, "alice", []factor.AMR{factor.AMRSMS}, now.Unix())
			var wg sync.WaitGroup
			var mu sync.Mutex
			given := 0
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					if _, _, err := m.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID}); err == nil {
						mu.Lock()
						given++
						mu.Unlock()
					}
				})
			}
			close(start)
			wg.Wait()
			list, err := Sessions(ctx, st, "example.com", "alice", now)
			if err != nil {
				t.Fatal(err)
			}
			u, err := UnlistedSessions(ctx, st, "example.com", "alice", now)
			if err != nil {
				t.Fatal(err)
			}
			if seen := len(list) + u.Count; seen < given || given == 0 {
				t.Errorf("%d sign-ins at once: %d sessions given, %d listed, %d counted unlisted: %d hidden from the admin", n, given, len(list), u.Count, given-seen)
			}
		})
	}
}
