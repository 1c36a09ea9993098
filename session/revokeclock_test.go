package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// gateOn is a gate of realm example.com on st whose clock reads *now.
func gateOn(t *testing.T, st store.Store, now *time.Time) *Manager {
	t.Helper()
	m, err := NewManager(context.Background(), Config{Store: st, Realm: "example.com", Alg: "HS256", Lifetime: time.Hour,
		Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return awaitingPolls(m)
}

// TestARevokeEndsTheSessionsSignedBeforeItWhateverTheClocks (attack28
// F2): the admin's revoke (and reset, sign-out everywhere) wrote "every
// session issued until now" by the revoking instance's clock (or the
// admin workstation's, the CLI on the store): a thief's session signed
// 10 s before it by an instance whose clock is 20 s ahead (within the
// Leeway the tokens tolerate) still counted after it, and stayed in her
// list. It ends now by its SID as listed, and one pushed off the list
// (Unlisted) by the revocation moved on to it. Failed before the fix
// (both cases). On Badger and a real Redis.
func TestARevokeEndsTheSessionsSignedBeforeItWhateverTheClocks(t *testing.T) {
	t.Parallel()
	for _, pushed := range []bool{false, true} {
		storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
			ctx := context.Background()
			real := time.Now()
			ahead := real.Add(20 * time.Second)
			a := gateOn(t, st, &ahead)
			tok, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			if err != nil {
				t.Fatal(err)
			}
			toks := []string{tok}
			if pushed { // MaxListed sign-ins since push it off her list
				for range MaxListed {
					more, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
					if err != nil {
						t.Fatal(err)
					}
					toks = append(toks, more)
				}
				if u, err := UnlistedSessions(ctx, st, "example.com", "alice", ahead); err != nil || u.Count != 1 {
					t.Fatalf("the first session pushed off her list: %+v, %v", u, err)
				}
			}
			real = real.Add(10 * time.Second)
			ahead = real.Add(20 * time.Second)
			if err := RevokeUser(ctx, st, "example.com", "alice", real, nil); err != nil { // the CLI's, or another instance's
				t.Fatal(err)
			}
			for i, tok := range toks {
				if cl := a.Uncached(ctx, tok); cl != nil {
					t.Errorf("pushed off the list %v: session %d, signed before the revoke by an instance 20 s ahead, still counts", pushed, i)
				}
			}
			if list, err := Sessions(ctx, st, "example.com", "alice", ahead); err != nil || len(list) != 0 {
				t.Errorf("her list after the revoke: %d sessions, %v; want none", len(list), err)
			}
			if u, err := UnlistedSessions(ctx, st, "example.com", "alice", ahead); err != nil || u.Count != 0 {
				t.Errorf("her unlisted sessions after the revoke: %+v, %v; want none", u, err)
			}
			// A sign-in after the revoke and past the instance's lead stands.
			real = real.Add(30 * time.Second)
			ahead = real.Add(20 * time.Second)
			after, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			if err != nil {
				t.Fatal(err)
			}
			if a.Uncached(ctx, after) == nil {
				t.Error("a session signed after the revoke ended with those before it")
			}
		})
	}
}

// TestARevokeWritesHerNewestInviteAsNone: where a record of her newest
// invite is, a revocation of all her sessions writes it naming none
// (endkeys.NoInvite: signin's proof shows the invite ending); where none
// is, it writes none (a name that held nothing still holds nothing).
func TestARevokeWritesHerNewestInviteAsNone(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		key := endkeys.LatestInvite("example.com", "alice")
		if err := st.Put(ctx, key, []byte(`{"id":"abc"}`), time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, user := range []string{"alice", "nobody"} {
			if err := RevokeUser(ctx, st, "example.com", user, time.Now(), nil); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := st.Get(ctx, key); err != nil || string(got) != `{"id":"ended"}` {
			t.Errorf("her newest invite after the revoke: %s, %v", got, err)
		}
		if _, err := st.Get(ctx, endkeys.LatestInvite("example.com", "nobody")); err != store.ErrNotFound {
			t.Errorf("a name with no invite got a record: %v", err)
		}
	})
}
