package enrollment

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestASetupCarriedWhereTheClockIsAheadStillEndsInTenMinutes (invite26,
// review27 A1): two gates on one store, X's clock an hour ahead. A setup
// begun at X ends (by the record) at X's now + 10 minutes: an hour and 10
// minutes ahead of real time. Carried by a step-up at Y one minute later,
// it must be written to expire within the 10 minutes a setup lasts, and
// not be shown at Y an hour later. On Badger and Redis. (Before, CarryApp
// kept the end as it was: written to expire in 1h09m, and shown, its
// code taken, an hour later.)
func TestASetupCarriedWhereTheClockIsAheadStillEndsInTenMinutes(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		log := &ttlLog{Store: st, ttl: map[string]time.Duration{}}
		x, _, clkX := appServiceOn(t, log)
		y, _, clkY := appServiceOn(t, log)
		clkX.advance(time.Hour)
		setup, err := x.Devices.StartApp(ctx, realm, alice, "Example", "sid-one")
		if err != nil {
			t.Fatal(err)
		}
		clkY.advance(time.Minute)
		if err := y.Devices.CarryApp(ctx, realm, alice, "sid-one", "sid-two"); err != nil {
			t.Fatal(err)
		}
		ttl := log.lastTTL(alice)
		t.Logf("carried at Y one minute after it began: written to expire in %v", ttl)
		if ttl > appSetupTTL {
			t.Errorf("a carried setup written to expire in %v, past the %v a setup lasts", ttl, appSetupTTL)
		}
		clkY.advance(time.Hour)
		if got, err := y.Devices.PendingApp(ctx, realm, alice, "sid-two"); err == nil && got.Secret == setup.Secret {
			t.Errorf("the setup is still shown at Y an hour and a minute after it began")
		}
	})
}
