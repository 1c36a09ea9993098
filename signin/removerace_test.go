package signin

import (
	"context"
	"fmt"
	"testing"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestTwoRemovalsAtOnceNotifyOnce: dora removes her lost phone in two
// tabs at once (or asks again while the first is in flight): the removal
// that took the phone away and the one that found it gone both end what it
// earned, and her phone left is told once, by whichever took the notice
// the removal owes (enrollment.TakeUntold). On Badger and on a real Redis,
// in every interleaving of their reads of the device list, and of the
// owed notice's record (removal-untold/: held at it, a take that read it
// owed and wrote it told apart, not in one Update, told twice; held at the
// list only, the first removal had told before the other read it).
func TestTwoRemovalsAtOnceNotifyOnce(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			il := &storetest.Interleaver{Store: st}
			s := newServiceOn(il, LoginForm{})
			notices := new(counted)
			s.Notices, s.Site, s.Logger = notices, "Example", zap.NewNop()
			runs := 0
			at := func(realm, user, lost string) string { return store.Key("device", realm, user) }
			next := func() storetest.Pair {
				runs++
				user, realm := "dora", fmt.Sprint("realm-", runs)
				ctx := context.Background()
				lost, _, err := s.Devices.AddIn(ctx, realm, user, "+14155550101", "Lost", "")
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.Devices.AddIn(ctx, realm, user, "+14155550102", "Kept", ""); err != nil {
					t.Fatal(err)
				}
				var errA, errB error
				return storetest.Pair{Key: at(realm, user, lost),
					A: func(ctx context.Context) { _, errA = s.RemovePhone(ctx, realm, user, lost, nil) },
					B: func(ctx context.Context) { _, errB = s.RemovePhone(ctx, realm, user, lost, nil) },
					Check: func() {
						t.Helper()
						if n := notices.take(); n != 1 || errA != nil || errB != nil {
							t.Errorf("run %d: two removals of one phone at once: %v, %v; %d notices, want 1", runs, errA, errB, n)
						}
					}}
			}
			if held := il.Interleave(t, next); held < 2 {
				t.Fatalf("%d interleavings: the removals do not both read the device list", held)
			}
			at = func(realm, user, lost string) string { return store.Key("removal-untold", realm, user, lost) }
			if held := il.Interleave(t, next); held < 2 {
				t.Fatalf("%d interleavings: the removals do not both read the owed notice", held)
			}
		})
	}
}
