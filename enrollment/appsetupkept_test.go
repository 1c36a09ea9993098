package enrollment

import (
	"context"
	"fmt"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAConfirmationLeavesASetupStartedMeanwhile (attack17): one session of
// a user confirms its app while another (a second tab or browser) starts a
// setup of its own: the confirmation ends only the setup it read, and the
// other's, started after that read, waits for its code. In every
// interleaving of the confirmation's reads of the setup and the start, on
// Badger and on a real Redis. (Before, the confirmation deleted whatever
// setup the user had once its app was written: the other session's
// confirmation then found none, "start again".)
func TestAConfirmationLeavesASetupStartedMeanwhile(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, clk := appServiceOn(t, il)
		runs, lost := 0, 0
		held := il.Interleave(t, func() storetest.Pair {
			runs++
			user := fmt.Sprint("user-", runs)
			sc := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", runs%250+1)}
			first, err := s.Devices.StartApp(context.Background(), realm, user, "Example", "")
			if err != nil {
				t.Fatal(err)
			}
			code, err := totp.GenerateCodeCustom(first.Secret, clk.now(), appOpts)
			if err != nil {
				t.Fatal(err)
			}
			var second *AppSetup
			var errConfirm, errStart error
			return storetest.Pair{Key: appSetupKey(realm, user),
				A: func(ctx context.Context) { _, _, errConfirm = s.Devices.ConfirmApp(ctx, sc, user, code, "") },
				B: func(ctx context.Context) { second, errStart = s.Devices.StartApp(ctx, realm, user, "Example", "") },
				Check: func() {
					t.Helper()
					if errStart != nil {
						t.Fatal(errStart)
					}
					clk.advance(appPeriod) // the first app's code's step used: the second's is another
					again, err := totp.GenerateCodeCustom(second.Secret, clk.now(), appOpts)
					if err != nil {
						t.Fatal(err)
					}
					_, added, err := s.Devices.ConfirmApp(context.Background(), sc, user, again, "")
					list, lerr := s.Devices.List(context.Background(), realm, user)
					if lerr != nil {
						t.Fatal(lerr)
					}
					switch {
					case errConfirm == nil && (err != nil || !added || len(list) != 2):
						// The start came after the confirmation read the
						// first setup: the second must wait for its code.
						lost++
						t.Errorf("run %d: a setup started while another session confirmed its app: %v (added %v, %d apps); want it added, beside the first",
							runs, err, added, len(list))
					case errConfirm != nil && (err != nil || len(list) != 1):
						// The start came first: the first app's code is
						// wrong for the second setup; the second still waits.
						t.Errorf("run %d: the confirmation after a new start: %v; the new setup's: %v, %d apps", runs, errConfirm, err, len(list))
					}
				}}
		})
		if held < 1 {
			t.Fatalf("%d interleavings: the confirmation does not read the setup", held)
		}
		t.Logf("%d runs, %d held, a setup lost in %d", runs, held, lost)
	})
}
