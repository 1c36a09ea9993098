package signin

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAStepUpFindingThePreviousReleasesEndEndsItsNewSession (endrace41):
// an instance of the previous release (a rolling upgrade) ends mallory's
// session as her browser proves itself again: its mark is 1, with no time
// (nor whether it was the session's own end or its device's). The step-up,
// which finds the session already ended when it comes to replace it, ends
// its new session too, as it does where it finds such a mark after its
// move, and as it does for an end of this release made after its sign-in
// began (erring toward ending). Before, an end with no time was taken as
// made before the sign-in: the new session lived. One this gate was told
// of before the sign-in began (here, a copy of the old cookie signing out
// at it) was made before: the browser signing in again stands. On Badger
// and Redis.
func TestAStepUpFindingThePreviousReleasesEndEndsItsNewSession(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		told bool // the gate was told of the end before the sign-in began
		live bool
	}{
		{"made during the sign-in", false, false},
		{"told before the sign-in", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
				oldTok, old := edgeSession(t, m, "mallory")
				previousEnd := func() {
					t.Helper()
					if err := st.Put(ctx, endkeys.Session("r", old.SID), []byte{1}, time.Hour); err != nil {
						t.Fatal(err)
					}
				}
				now = now.Add(time.Minute)
				if tc.told {
					previousEnd()
					if _, err := m.Revoke(ctx, oldTok, old); err != nil { // a copy of its cookie signs out here
						t.Fatal(err)
					}
					now = now.Add(time.Minute)
				}
				_, fresh := edgeSession(t, m, "mallory") // the sign-in begins
				if !tc.told {
					now = now.Add(time.Second)
					previousEnd()
				}
				now = now.Add(time.Second)
				if _, err := ends.EndReplaced(ctx, oldTok, "mallory", fresh.SID); err != nil {
					t.Fatal(err)
				}
				if live, err := m.Live(ctx, fresh); err != nil || live != tc.live {
					t.Errorf("the new session of a step-up that found the previous release's end (%s): live %v (%v), want %v", tc.name, live, err, tc.live)
				}
			})
		})
	}
}
