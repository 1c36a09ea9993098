package session

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestARetriedEndFinishesTheJob, on Badger and a real Redis: alice's
// trusted browser (a thief's) has two sessions listed, her laptop one of
// no trust; the admin ends the thief's newest while the store fails its
// Nth write, for each write End makes, and then ends it again with the
// store back. Both sessions of the trust are refused and their browsers
// are strangers again (StillKnown); the laptop's session stays, and so
// does its browser. (Before, a store failure after the trust had ended
// but before the sessions' marks left the retry answering ErrNoSession,
// the sessions listed no more: the browsers of the trust stayed known.)
func TestARetriedEndFinishesTheJob(t *testing.T) {
	t.Parallel()
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Now().Truncate(time.Second)
			if _, _, err := continuity.Open(ctx, st, continuity.Options{Identity: t.TempDir(), Now: func() time.Time { return now }}); err != nil {
				t.Fatal(err)
			}
			m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Secret: []byte("a secret of thirty-two bytes, no less"),
				Alg: "HS256", Lifetime: time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			awaitingPolls(m)
			failed := 0
			for n := int64(1); ; n++ {
				user := fmt.Sprintf("alice%d", n)
				begun := now
				laptop, err := m.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{Browser: "laptop"})
				if err != nil {
					t.Fatal(err)
				}
				_, tb, err := m.TrustHeld(ctx, Began{}, user, "", "", time.Time{}, Where{Browser: "thief"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), 24*time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				var thief, sids []string
				for range 2 {
					now = now.Add(time.Second)
					tok, sid, err := m.IssueTrusted(ctx, Began{}, user, tb, Where{Trust: tb.ID})
					if err != nil {
						t.Fatal(err)
					}
					thief, sids = append(thief, tok), append(sids, sid)
				}
				newest := sids[1]
				now = now.Add(time.Second)
				down := &nthWrite{Store: st, n: n}
				_, err = End(ctx, down, "example.com", user, newest, now)
				if err == nil {
					if failed == 0 {
						t.Fatal("no write of End failed")
					}
					break // past its last write that matters
				}
				if !errors.Is(err, errDown) {
					t.Fatalf("write %d failed: %v", n, err)
				}
				failed++
				if _, err := End(ctx, st, "example.com", user, newest, now); err != nil && !errors.Is(err, ErrNoSession) {
					t.Fatalf("write %d failed, then the retry: %v", n, err)
				}
				m.FlushCache()
				for i, tok := range thief {
					if m.Uncached(ctx, tok) != nil {
						t.Errorf("write %d failed, then the retry: the thief's session %d is live", n, i)
					}
				}
				for i, sid := range sids {
					if known, err := StillKnown(ctx, st, "example.com", user, sid, "", "", begun.Add(time.Duration(i+1)*time.Second)); err != nil || known {
						t.Errorf("write %d failed, then the retry: the browser of the thief's session %d is still known (%v)", n, i, err)
					}
				}
				if cl := m.Uncached(ctx, laptop); cl == nil {
					t.Errorf("write %d failed, then the retry: the laptop's session ended", n)
				} else if known, err := StillKnown(ctx, st, "example.com", user, cl.SID, "", "", begun); err != nil || !known {
					t.Errorf("write %d failed, then the retry: the laptop is a stranger (%v)", n, err)
				}
			}
			t.Logf("End failed at each of its first %d writes", failed)
		})
	}
}

// nthWrite is a store whose nth write (counting from 1) fails, and only
// that one.
type nthWrite struct {
	store.Store
	n, writes int64
}

func (s *nthWrite) fails() bool { return atomic.AddInt64(&s.writes, 1) == s.n }

func (s *nthWrite) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if s.fails() {
		return errDown
	}
	return s.Store.Put(ctx, key, v, ttl)
}

func (s *nthWrite) PutIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if s.fails() {
		return false, errDown
	}
	return s.Store.PutIfAbsent(ctx, key, v, ttl)
}

func (s *nthWrite) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if s.fails() {
		return errDown
	}
	return s.Store.Update(ctx, key, change)
}

func (s *nthWrite) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if s.fails() {
		return 0, errDown
	}
	return s.Store.Incr(ctx, key, ttl)
}

func (s *nthWrite) Delete(ctx context.Context, key string) error {
	if s.fails() {
		return errDown
	}
	return s.Store.Delete(ctx, key)
}
