package signin

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnEndIsMisjudgedWithinTheInstancesSkewOnly measures review40 R2's
// residual: an admin's end of a session is stamped by the ending
// instance's clock, the beginning of the step-up's sign-in that replaced
// it by the signing instance's, so with the ending clock d ahead a sign-in
// begun up to d after the end is ended with it, and with it d behind a
// step-up begun up to d before the end stands; one begun further off is
// judged right. Here d is 2 s: misjudged at 1.5 s, right at 2.5 s, on
// Badger and Redis. The bound is the instances' difference, which a Redis
// store's Open warns of beyond store.ClockSkewWarned each
// (TestAnInstanceClockOffTheRedisServersIsWarned); SECURITY.md.
func TestAnEndIsMisjudgedWithinTheInstancesSkewOnly(t *testing.T) {
	t.Parallel()
	const d = 2 * time.Second
	for _, tc := range []struct {
		name  string
		ahead time.Duration // the ending clock's, over the signing one's
		begun time.Duration // the sign-in's beginning after the end (true time)
		live  bool
	}{
		{"ahead/within", d, 1500 * time.Millisecond, false}, // misjudged: begun after, ended
		{"ahead/beyond", d, 2500 * time.Millisecond, true},
		{"behind/within", -d, -1500 * time.Millisecond, true}, // misjudged: begun before, stands
		{"behind/beyond", -d, -2500 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
				ctx := context.Background()
				now := time.Now().Truncate(time.Second)
				signing := func() time.Time { return now }
				ending := func() time.Time { return now.Add(tc.ahead) }
				manager := func(clock func() time.Time) *session.Manager {
					m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: clock})
					if err != nil {
						t.Fatal(err)
					}
					return m
				}
				signer, ender := manager(signing), manager(ending)
				oldTok, old := edgeSession(t, signer, "mallory")
				end := now.Add(time.Minute)
				now = end.Add(tc.begun)
				_, fresh := edgeSession(t, signer, "mallory")
				now = end
				if _, err := (Ends{Store: st, Realm: "r", Now: ending, Sessions: ender}).EndSession(ctx, "mallory", old.SID, "root"); err != nil {
					t.Fatal(err)
				}
				now = end.Add(time.Minute)
				if _, err := (Ends{Store: st, Realm: "r", Now: signing, Sessions: signer}).EndReplaced(ctx, oldTok, "mallory", fresh.SID); err != nil {
					t.Fatal(err)
				}
				if live, err := signer.Live(ctx, fresh); err != nil || live != tc.live {
					t.Errorf("the ending clock %v ahead, a sign-in begun %v after the end: live %v (%v), want %v", tc.ahead, tc.begun, live, err, tc.live)
				}
			})
		})
	}
}
