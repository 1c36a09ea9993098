package signin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnEndOfTheOldSessionRacingItsStepUpEndsWhatItBecame (review39 R1),
// on Badger and a real Redis: mallory's browser's session (old) minted
// mal's invite; her step-up there replaces it (Ends.EndReplaced: the
// invites move to the new session, old is revoked) while an admin ends
// old as her list showed it (EndSession: the console's, the admin API's,
// the CLI's end). In every interleaving of the two's reads of each record
// they both read (old's end, which session replaced old, her list of
// sessions, her index of invites), the end answers "ended" and old, the
// new session and mal's invite have all ended: a step-up is no way out
// of an end made at that moment. (Before: in the runs where the end came
// after the move, or its end of old after the whole replacement, the
// invite and the new session lived.)
func TestAnEndOfTheOldSessionRacingItsStepUpEndsWhatItBecame(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il, ends := interleavedEnds(t, st)
		runs := 0
		pair := func(key func(admin, old string) string) func() storetest.Pair {
			return func() storetest.Pair {
				runs++
				admin, user := fmt.Sprint("mallory", runs), fmt.Sprint("mal", runs)
				oldTok, old, fresh := inviteInOld(t, st, ends, admin, user)
				var endErr error
				return storetest.Pair{Key: key(admin, old.SID),
					A: func(ctx context.Context) {
						_, endErr = ends.EndSession(ctx, admin, old.SID, "root")
					},
					B: func(ctx context.Context) {
						if _, err := ends.EndReplaced(ctx, oldTok, admin, fresh.SID); err != nil {
							t.Error(err)
						}
					},
					Check: func() {
						if endErr != nil {
							t.Errorf("run %d: the admin's end of the old session: %v", runs, endErr)
						}
						for what, cl := range map[string]*session.Claims{"the old session": old, "the session its step-up made": fresh} {
							if live, err := ends.Sessions.Live(ctx, cl); err != nil || live {
								t.Errorf("run %d: %s lives after the admin ended the old one (%v)", runs, what, err)
							}
						}
						expectWithdrawn(t, st, runs, user, "the session the admin ended")
					},
				}
			}
		}
		// Which session replaced old is written by the replacement and read
		// by the end alone: one run holds the end after that read (the
		// replacement runs whole between); each other record, both read.
		for _, over := range []struct {
			name string
			key  func(admin, old string) string
			runs int
		}{
			{"old's end", func(_, old string) string { return endkeys.Session("r", old) }, 2},
			{"which session replaced old", func(_, old string) string { return store.Key("replaced-by", "r", old) }, 1},
			{"her sessions", func(admin, _ string) string { return store.Key("sessions", "r", admin) }, 2},
			{"her minted invites", func(admin, _ string) string { return endkeys.MintedInvites("r", admin) }, 2},
		} {
			if held := il.Interleave(t, pair(over.key)); held < over.runs {
				t.Errorf("over %s: held %d runs, nothing raced", over.name, held)
			}
		}
	})
}

// TestAnEndOfTheOldSessionBeforeItsStepUpNamedTheNewOneEndsIt (review39
// R1), on Badger and a real Redis: the admin's end of mallory's old
// session runs whole after her step-up found it live and before it wrote
// which session replaced it (a store that runs the end just before that
// write): the end finds no replacement to follow, so the step-up, once it
// has revoked the old session, must read the end's mark there and end the
// new session itself. (Before: the step-up's revocation of old rewrote
// that mark as its own, "announced", and the new session lived.)
func TestAnEndOfTheOldSessionBeforeItsStepUpNamedTheNewOneEndsIt(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		w := &beforePut{Store: st}
		_, ends := interleavedEnds(t, w)
		oldTok, old := edgeSession(t, ends.Sessions, "mallory")
		_, fresh := edgeSession(t, ends.Sessions, "mallory")
		var endErr error
		w.key, w.run = store.Key("replaced-by", "r", old.SID), func() {
			_, endErr = ends.EndSession(ctx, "mallory", old.SID, "root")
		}
		if _, err := ends.EndReplaced(ctx, oldTok, "mallory", fresh.SID); err != nil {
			t.Fatal(err)
		}
		if !w.ran {
			t.Fatal("the step-up wrote no record of what the old session became")
		}
		if endErr != nil {
			t.Fatalf("the admin's end of the old session: %v", endErr)
		}
		for what, cl := range map[string]*session.Claims{"the old session": old, "the session its step-up made": fresh} {
			if live, err := ends.Sessions.Live(ctx, cl); err != nil || live {
				t.Errorf("%s lives after the admin ended the old one (%v)", what, err)
			}
		}
	})
}

// beforePut is a store that runs run once, just before the first write of
// key: a change made at that point of another's, whole.
type beforePut struct {
	store.Store
	key string
	run func()
	ran bool
}

func (b *beforePut) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if key == b.key && !b.ran {
		b.ran = true
		b.run()
	}
	return b.Store.Put(ctx, key, value, ttl)
}

// Claim implements store.Claimer: the store's own claim.
func (b *beforePut) Claim(ctx context.Context, parts []*store.Op) (bool, error) {
	return store.ClaimOn(ctx, b.Store, parts)
}

// TestASignInBegunAfterAnEndOfItsBrowsersSessionStands (review39 R1), on
// Badger and a real Redis: the admin ended mallory's session; her browser,
// whose cookie still names it, signs in again a minute later (a code):
// the new session stands, though it replaces one an end ended. A sign-in
// that began before the end (a step-up it raced) is ended with it (before:
// it lived; with endedBeforeTheMove off, the same).
func TestASignInBegunAfterAnEndOfItsBrowsersSessionStands(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Second)
		clock := func() time.Time { return now }
		m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		ends := Ends{Store: st, Realm: "r", Now: clock, Sessions: m}
		for _, c := range []struct {
			user  string
			began time.Duration // the new session's sign-in, from the end
			lives bool
		}{{"mallory", time.Minute, true}, {"mallorie", -30 * time.Second, false}} {
			oldTok, old := edgeSession(t, m, c.user)
			now = now.Add(time.Minute)
			end := now
			now = end.Add(c.began)
			_, fresh := edgeSession(t, m, c.user)
			now = end
			if _, err := ends.EndSession(ctx, c.user, old.SID, "root"); err != nil {
				t.Fatal(err)
			}
			now = end.Add(max(c.began, 0) + time.Second)
			if _, err := ends.EndReplaced(ctx, oldTok, c.user, fresh.SID); err != nil {
				t.Fatal(err)
			}
			if live, err := m.Live(ctx, fresh); err != nil || live != c.lives {
				t.Errorf("a sign-in begun %v after the end of the session it replaced: live %v (%v), want %v", c.began, live, err, c.lives)
			}
		}
	})
}
