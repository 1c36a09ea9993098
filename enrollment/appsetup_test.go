package enrollment

import (
	"context"
	"errors"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestAPendingAppIsShownToItsOwnSessionOnly (appkey23): a setup is shown
// again (PendingApp) to the session that began it, with its key and URI,
// and to no other, nor to one naming none; a previous release's record
// (the secret alone, sealed) is shown to none and still confirmed. On
// Badger and a real Redis.
func TestAPendingAppIsShownToItsOwnSessionOnly(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, clk := appServiceOn(t, st)
		setup, err := s.Devices.StartApp(ctx, realm, alice, "Example", "sid-one")
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Devices.PendingApp(ctx, realm, alice, "sid-one")
		if err != nil || got.Secret != setup.Secret || got.URI != setup.URI {
			t.Fatalf("its own session is shown %+v, %v; want %+v", got, err, setup)
		}
		for _, sid := range []string{"sid-two", ""} {
			if got, err := s.Devices.PendingApp(ctx, realm, alice, sid); !errors.Is(err, ErrNoAppSetup) || got != nil {
				t.Fatalf("session %q is shown another's setup: %+v, %v", sid, got, err)
			}
		}

		// The previous release's record: the secret alone.
		old := s.Secrets.Seal(setup.Secret, appSetupKey(realm, alice))
		if err := st.Put(ctx, appSetupKey(realm, alice), []byte(old), appSetupTTL); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Devices.PendingApp(ctx, realm, alice, "sid-one"); !errors.Is(err, ErrNoAppSetup) || got != nil {
			t.Fatalf("the previous release's setup is shown: %+v, %v", got, err)
		}
		code, err := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		if err != nil {
			t.Fatal(err)
		}
		if _, added, err := s.Devices.ConfirmApp(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1"}, alice, code, ""); err != nil || !added {
			t.Fatalf("the previous release's setup confirmed: added %v, %v", added, err)
		}
	})
}

// TestCarryAppMovesOnlyTheSetupOfTheSessionItLeaves (review24 F1): a
// step-up's new session takes over the setup its browser's old session
// began; a setup another session began, a previous release's record or
// none are left as they are. On Badger and a real Redis.
func TestCarryAppMovesOnlyTheSetupOfTheSessionItLeaves(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := appServiceOn(t, st)
		if err := s.Devices.CarryApp(ctx, realm, alice, "sid-one", "sid-new"); err != nil {
			t.Fatalf("carrying no setup: %v", err)
		}
		if _, err := st.Get(ctx, appSetupKey(realm, alice)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("carrying no setup wrote one: %v", err)
		}
		setup, err := s.Devices.StartApp(ctx, realm, alice, "Example", "sid-two")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.CarryApp(ctx, realm, alice, "sid-one", "sid-new"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Devices.PendingApp(ctx, realm, alice, "sid-two"); err != nil || got.Secret != setup.Secret {
			t.Fatalf("another session's setup was taken: %+v, %v", got, err)
		}
		if err := s.Devices.CarryApp(ctx, realm, alice, "sid-two", "sid-new"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Devices.PendingApp(ctx, realm, alice, "sid-new"); err != nil || got.Secret != setup.Secret || got.URI != setup.URI {
			t.Fatalf("the new session is shown %+v, %v; want %+v", got, err, setup)
		}
		if got, err := s.Devices.PendingApp(ctx, realm, alice, "sid-two"); !errors.Is(err, ErrNoAppSetup) || got != nil {
			t.Fatalf("the session left still is shown the setup: %+v, %v", got, err)
		}
		old := []byte(s.Secrets.Seal(setup.Secret, appSetupKey(realm, alice)))
		if err := st.Put(ctx, appSetupKey(realm, alice), old, appSetupTTL); err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.CarryApp(ctx, realm, alice, "", "sid-new"); err != nil {
			t.Fatal(err)
		}
		if raw, err := st.Get(ctx, appSetupKey(realm, alice)); err != nil || string(raw) != string(old) {
			t.Fatalf("the previous release's record was changed: %q, %v", raw, err)
		}
	})
}
