package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestRacingAppConfirms: two confirmations of one app setup at once (a
// double submit) add one app, not two with one secret (each wrong code
// would then take two guess slots, and the list show a ghost); each is
// told it is added, with its ID, or (the other done first) that the setup
// is over; and exactly one is told it added the app (only that one
// notifies the user's phones, and may undo it: signin's
// TestTwoAppConfirmsAtOnceNotifyOnce). On Badger and on a real Redis, in every
// interleaving of their reads of the setup and of the device list, and
// raceRuns times at once.
func TestRacingAppConfirms(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, clk := appServiceOn(t, il)
		runs := 0
		// next readies a user with an app being added, and the two
		// confirmations of it.
		next := func() (user string, a, b func(context.Context), check func(string)) {
			runs++
			user = fmt.Sprint("user-", runs)
			sc := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", runs%250+1)}
			setup, err := s.Devices.StartApp(context.Background(), realm, user, "Example", "")
			if err != nil {
				t.Fatal(err)
			}
			code, err := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
			if err != nil {
				t.Fatal(err)
			}
			var idA, idB string
			var addedA, addedB bool
			var errA, errB error
			a = func(ctx context.Context) { idA, addedA, errA = s.Devices.ConfirmApp(ctx, sc, user, code, "") }
			b = func(ctx context.Context) { idB, addedB, errB = s.Devices.ConfirmApp(ctx, sc, user, code, "") }
			check = func(run string) {
				t.Helper()
				// One after the other, the second finds no setup.
				if errors.Is(errA, ErrNoAppSetup) {
					idA, errA = idB, nil
				} else if errors.Is(errB, ErrNoAppSetup) {
					idB, errB = idA, nil
				}
				if errA != nil || errB != nil {
					t.Fatalf("%s: %v, %v", run, errA, errB)
				}
				list, err := s.Devices.List(context.Background(), realm, user)
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != 1 || idA != idB || list[0].ID != idA {
					t.Errorf("%s: two confirmations of one setup: %d devices, IDs %q and %q", run, len(list), idA, idB)
				}
				if addedA == addedB {
					t.Errorf("%s: two confirmations of one setup: added %v and %v, want one that added it", run, addedA, addedB)
				}
			}
			return user, a, b, check
		}
		held := 0
		for _, key := range []func(string) string{
			func(user string) string { return appSetupKey(realm, user) },
			func(user string) string { return deviceKey(realm, user) },
		} {
			held += il.Interleave(t, func() storetest.Pair {
				user, a, b, check := next()
				return storetest.Pair{Key: key(user), A: a, B: b,
					Check: func() { check(fmt.Sprint("interleaving ", runs)) }}
			})
		}
		if held < 4 {
			t.Fatalf("%d interleavings: the confirmations do not both read the setup and the list", held)
		}
		for i := range raceRuns {
			_, a, b, check := next()
			ctx := context.Background()
			race(func() { a(ctx) }, func() { b(ctx) })
			check(fmt.Sprint("run ", i))
		}
	})
}
