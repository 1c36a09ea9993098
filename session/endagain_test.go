package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestEndWithAskedAgainOnlyForItsOwnEnd (ends38): EndWith asked again
// for a session it ended whose invites failed finds it in her index by
// its own revocation and runs endInvites again, then takes it out; a
// session ended by a revocation of all hers (her revoke, which ends her
// invites its own way) and an unknown SID are ErrNoSession, and run
// nothing. On Badger and Redis.
func TestEndWithAskedAgainOnlyForItsOwnEnd(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Second)
		clock := func() time.Time { return now }
		m, err := NewManager(ctx, Config{Store: st, Realm: "r", Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		issue := func(user string) string {
			t.Helper()
			_, sid, err := m.IssueBegun(ctx, Began{}, user, []factor.AMR{factor.AMRSMS}, Where{Browser: "Firefox"})
			if err != nil {
				t.Fatal(err)
			}
			return sid
		}
		thief, revoked := issue("alice"), issue("bob")
		runs := 0
		endInvites := func(fail bool) func(Info) error {
			return func(s Info) error {
				if s.SID != thief {
					t.Errorf("endInvites of %s; want the thief's %s", s.SID, thief)
				}
				runs++
				if fail {
					return errors.New("ends38: the store went away")
				}
				return nil
			}
		}
		if _, err := EndWith(ctx, st, "r", "alice", thief, now, endInvites(true)); err == nil {
			t.Fatal("an end whose invites failed: no error")
		}
		if got, err := EndWith(ctx, st, "r", "alice", thief, now, endInvites(false)); err != nil || got.SID != thief || runs != 2 {
			t.Fatalf("asked again: %+v, %v, endInvites run %d times; want the thief's session, twice", got, err, runs)
		}
		if _, err := EndWith(ctx, st, "r", "alice", thief, now, endInvites(false)); !errors.Is(err, ErrNoSession) || runs != 2 {
			t.Errorf("asked a third time: %v, endInvites run %d times; want ErrNoSession, twice", err, runs)
		}
		now = now.Add(time.Second)
		if err := RevokeUser(ctx, st, "r", "bob", now, nil); err != nil {
			t.Fatal(err)
		}
		for _, sid := range []string{revoked, "unknown"} {
			if _, err := EndWith(ctx, st, "r", "bob", sid, now, endInvites(false)); !errors.Is(err, ErrNoSession) || runs != 2 {
				t.Errorf("%s: %v, endInvites run %d times; want ErrNoSession, none", sid, err, runs)
			}
		}
	})
}
