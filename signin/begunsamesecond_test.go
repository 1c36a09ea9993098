package signin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestASignInBegunJustAfterAnEndInItsSecondStands (review40 R2): the
// end's mark is in nanoseconds (end@<ns>), a session's iat whole seconds
// (jwt.NumericDate): a step-up whose sign-in began 500 ms after the
// admin's end of the session it replaced, in the same second, was judged
// begun before it, and its new session ended (before: live false). Now
// the index entry carries the sign-in's beginning in nanoseconds
// (session.Info.Began). One begun 500 ms before the end, in the same
// second, still ends.
func TestASignInBegunJustAfterAnEndInItsSecondStands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		begun time.Duration // after the end
		live  bool
	}{
		{"after", 500 * time.Millisecond, true},
		{"before", -100 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
				ctx := context.Background()
				now := time.Now().Truncate(time.Second).Add(200 * time.Millisecond)
				clock := func() time.Time { return now }
				m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: clock})
				if err != nil {
					t.Fatal(err)
				}
				ends := Ends{Store: st, Realm: "r", Now: clock, Sessions: m}
				oldTok, old := edgeSession(t, m, "mallory")
				now = now.Add(time.Minute)
				end := now
				now = end.Add(tc.begun) // the new sign-in begins, in the end's second
				_, fresh := edgeSession(t, m, "mallory")
				now = end
				if _, err := ends.EndSession(ctx, "mallory", old.SID, "root"); err != nil {
					t.Fatal(err)
				}
				now = end.Add(time.Minute)
				if _, err := ends.EndReplaced(ctx, oldTok, "mallory", fresh.SID); err != nil {
					t.Fatal(err)
				}
				if live, err := m.Live(ctx, fresh); err != nil || live != tc.live {
					t.Errorf("a sign-in begun %v after the end of the session it replaced (same second): live %v (%v), want %v", tc.begun, live, err, tc.live)
				}
			})
		})
	}
}

// TestAnIndexEntryWithoutItsBeginningIsReadByItsIat: an index entry the
// previous release wrote has no "began" (only "issued", whole seconds): it
// is read as begun at its iat, on Badger and Redis.
func TestAnIndexEntryWithoutItsBeginningIsReadByItsIat(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		issued := time.Now().Truncate(time.Second).UTC()
		old := []byte(`[{"sid":"S1","issued":"` + issued.Format(time.RFC3339) + `","expires":"` + issued.Add(time.Hour).Format(time.RFC3339) + `","amr":["sms"],"where":{"browser":"Edge"}}]`)
		if err := st.Put(ctx, store.Key("sessions", "r", "mallory"), old, time.Hour); err != nil {
			t.Fatal(err)
		}
		live, err := session.Sessions(ctx, st, "r", "mallory", issued.Add(time.Minute))
		if err != nil || len(live) != 1 {
			t.Fatalf("the previous release's entry: %v (%v)", live, err)
		}
		if got := live[0].BeganAt(); !got.Equal(issued) {
			raw, _ := json.Marshal(live[0])
			t.Fatalf("begun at %v, want its iat %v (%s)", got, issued, raw)
		}
	})
}
