package signin

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAMintInFlightInAReplacedSessionGoesWithItsBrowser (logout39, close17
// Left 1 (a)), on Badger and a real Redis: mallory's step-up replaces her
// browser's session (Ends.EndReplaced: its invites moved to the new one, then it
// is revoked) while a console mint in the old session is in flight (its
// entry written, then its session's Live check: the link is handed out
// only where it is live). In every interleaving of the two's reads of the
// old session's revocation record: a link handed out is named by the new
// session in her index, so the admin's end of the session her list shows
// ends it. (Before, a mint written between the move and the revocation,
// its check passing, named the old session only.)
func TestAMintInFlightInAReplacedSessionGoesWithItsBrowser(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il, ends := interleavedEnds(t, st)
		runs := 0
		held := il.Interleave(t, func() storetest.Pair {
			runs++
			admin := fmt.Sprint("mallory", runs)
			oldTok, old := edgeSession(t, ends.Sessions, admin)
			_, fresh := edgeSession(t, ends.Sessions, admin)
			handedOut := false
			return storetest.Pair{Key: endkeys.Session("r", old.SID),
				A: func(ctx context.Context) {
					if _, err := ends.EndReplaced(ctx, oldTok, admin, fresh.SID); err != nil {
						t.Error(err)
					}
				},
				B: func(ctx context.Context) {
					now := time.Now()
					entry := endkeys.Minted{User: "mal", ID: "mal-invite", Expires: now.Add(time.Hour), Made: now, From: session.MintedFrom(old)}
					err := il.Update(ctx, endkeys.MintedInvites("r", admin), func(raw []byte, found bool) ([]byte, time.Duration, error) {
						var list []endkeys.Minted
						if found {
							_ = json.Unmarshal(raw, &list)
						}
						raw, err := json.Marshal(append(list, entry))
						return raw, time.Hour, err
					})
					if err != nil {
						t.Error(err)
						return
					}
					live, err := ends.Sessions.Live(ctx, old)
					handedOut = err == nil && live
				},
				Check: func() {
					raw, err := st.Get(ctx, endkeys.MintedInvites("r", admin))
					var list []endkeys.Minted
					if err != nil || json.Unmarshal(raw, &list) != nil || len(list) != 1 {
						t.Fatalf("her index: %s, %v", raw, err)
					}
					if handedOut && list[0].From.SID != fresh.SID {
						t.Errorf("run %d: a link handed out in the replaced session is named by it (%s), not by the new session: the end of the session her list shows leaves it", runs, list[0].From.SID)
					}
				},
			}
		})
		if held < 2 {
			t.Fatalf("held %d runs: nothing raced", held)
		}
	})
}

// TestAnEndOfTheNewSessionRacingTheMoveEndsWhatMoved (logout39, close17
// Left 1 (b)), on Badger and a real Redis: mallory's browser's session
// minted mal's invite; her step-up there replaces it (Ends.EndReplaced: the
// invites move to the new session, the old is revoked) while an admin
// ends the new session as her list shows it (EndWith, its invites by
// MintedIn, as signin's EndSession). In every interleaving of the two's
// reads of her index of invites, mal's invite ends. (Before, an end that
// read the index before the move ended nothing, and the move then named
// the ended session: the link lived.)
func TestAnEndOfTheNewSessionRacingTheMoveEndsWhatMoved(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		il, ends := interleavedEnds(t, st)
		runs := 0
		held := il.Interleave(t, func() storetest.Pair {
			runs++
			admin, user := fmt.Sprint("mallory", runs), fmt.Sprint("mal", runs)
			oldTok, _, fresh := inviteInOld(t, st, ends, admin, user)
			return storetest.Pair{Key: endkeys.MintedInvites("r", admin),
				A: func(ctx context.Context) {
					_, err := session.EndWith(ctx, il, "r", admin, fresh.SID, time.Now(), func(s session.Info) error {
						_, err := session.EndMintedOf(ctx, il, "r", admin, time.Now(), nil, session.MintedIn(s.SID, s.Where.Trust))
						return err
					})
					if err != nil {
						t.Error(err)
					}
				},
				B: func(ctx context.Context) {
					if _, err := ends.EndReplaced(ctx, oldTok, admin, fresh.SID); err != nil {
						t.Error(err)
					}
				},
				Check: func() {
					expectWithdrawn(t, st, runs, user, "the browser whose session the admin ended")
				},
			}
		})
		if held < 2 {
			t.Fatalf("held %d runs: nothing raced", held)
		}
	})
}

// interleavedEnds is signin's ends over st through an Interleaver (the
// race's two sides meet at its key) with a session manager of their own.
func interleavedEnds(t *testing.T, st store.Store) (*storetest.Interleaver, Ends) {
	t.Helper()
	il := &storetest.Interleaver{Store: st}
	m, err := session.NewManager(context.Background(), session.Config{Store: il, Realm: "r", Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return il, Ends{Store: il, Realm: "r", Now: time.Now, Logger: zap.NewNop(), Sessions: m}
}

// inviteInOld signs admin in with a code in Edge twice: old (its token
// oldTok), which minted user's invite "mal-invite" (written to st: admin's
// index of invites names it, and it is user's latest), then fresh, the
// session a step-up in old's browser makes.
func inviteInOld(t *testing.T, st store.Store, ends Ends, admin, user string) (oldTok string, old, fresh *session.Claims) {
	t.Helper()
	ctx := context.Background()
	oldTok, old = edgeSession(t, ends.Sessions, admin)
	now := time.Now()
	entry := endkeys.Minted{User: user, ID: "mal-invite", Expires: now.Add(time.Hour), Made: now, From: session.MintedFrom(old)}
	raw, _ := json.Marshal([]endkeys.Minted{entry})
	latest, _ := json.Marshal(map[string]string{"id": entry.ID})
	if err := st.Put(ctx, endkeys.MintedInvites("r", admin), raw, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, endkeys.LatestInvite("r", user), latest, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, fresh = edgeSession(t, ends.Sessions, admin)
	return oldTok, old, fresh
}

// expectWithdrawn fails t unless user's latest invite (mal's, minted in
// where) is withdrawn after run.
func expectWithdrawn(t *testing.T, st store.Store, run int, user, where string) {
	t.Helper()
	raw, err := st.Get(context.Background(), endkeys.LatestInvite("r", user))
	var l struct{ ID string }
	if err != nil || json.Unmarshal(raw, &l) != nil || l.ID != endkeys.Withdrawn {
		t.Errorf("run %d: mal's invite, minted in %s, stands (%s, %v)", run, where, raw, err)
	}
}

// edgeSession signs user in with a code in Edge: the session's token and
// its claims.
func edgeSession(t *testing.T, m *session.Manager, user string) (string, *session.Claims) {
	t.Helper()
	tok, _, err := m.IssueBegun(context.Background(), session.Began{}, user, []factor.AMR{factor.AMRSMS}, session.Where{Browser: "Edge"})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := m.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	return tok, cl
}
