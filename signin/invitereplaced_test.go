package signin

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestOfTwoInvitesMintedAtOnceTheLaterStands (invite24): two invites for
// one user minted at once (two instances, the console and the admin API)
// leave one link working: the later-minted, whichever wrote first; at
// the same instant, exactly one. In every interleaving of their writes of
// the user's newest invite, and 50 times at once, on Badger and a real
// Redis. (An instance whose clock is behind must not bring back the
// earlier invite by writing last.)
func TestOfTwoInvitesMintedAtOnceTheLaterStands(t *testing.T) {
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il := &storetest.Interleaver{Store: st}
		s := newServiceOn(il, LoginForm{})
		mintAt := func(at time.Time, user string, token *string, err *error) func(context.Context) {
			_, _, adm := enrollment.New(&enrollment.Core{Store: il, Now: func() time.Time { return at }}, enrollment.Challenges{})
			return func(ctx context.Context) { *token, *err = adm.NewInvite(ctx, "r", user, time.Hour) }
		}
		stands := func(token string) bool {
			t.Helper()
			_, err := s.InviteFor(ctx, "r", token, "")
			if err != nil && !errors.Is(err, enrollment.ErrInviteReplaced) {
				t.Fatalf("reading an invite: %v", err)
			}
			return err == nil
		}
		runs := 0
		// pair mints an invite at base (A) and one gap later (B).
		pair := func(gap time.Duration) storetest.Pair {
			runs++
			user := fmt.Sprint("user", runs)
			base := time.Now()
			var earlier, later string
			var errA, errB error
			return storetest.Pair{Key: store.Key("invite-latest", "r", user),
				A: mintAt(base, user, &earlier, &errA),
				B: mintAt(base.Add(gap), user, &later, &errB),
				Check: func() {
					t.Helper()
					if errA != nil || errB != nil {
						t.Fatalf("minting: %v, %v", errA, errB)
					}
					first, second := stands(earlier), stands(later)
					switch {
					case gap > 0 && (first || !second):
						t.Errorf("run %d: the earlier invite stands %v, the later %v; want only the later", runs, first, second)
					case gap == 0 && first == second:
						t.Errorf("run %d: two invites minted at the same instant both stand or neither (%v)", runs, first)
					}
				}}
		}
		for _, gap := range []time.Duration{time.Millisecond, 0} {
			interleavings := il.Interleave(t, func() storetest.Pair { return pair(gap) })
			if interleavings < 2 {
				t.Fatalf("gap %v: %d interleavings: the mints do not both read the newest invite", gap, interleavings)
			}
			for range 50 {
				p := pair(gap)
				done := make(chan struct{})
				go func() { p.B(ctx); close(done) }()
				p.A(ctx)
				<-done
				p.Check()
			}
			t.Logf("gap %v: %d interleavings, 50 at once", gap, interleavings)
		}
	})
}
