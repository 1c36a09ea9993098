package enrollment

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnExportCarriesTheEndsOfDevices: the end of a removed phone's
// sessions (session.EndDevice), which alone ends one off her list, goes in
// an export with its expiry (session.LongestLifetime past the removal);
// imported into a store that lacks it (a move, a restore),
// it is written and announced: a gate that had checked the phone's session
// since refuses it at once, and one that knows only the store refuses it
// too; another phone's session stays. On Badger and on a real Redis.
func TestAnExportCarriesTheEndsOfDevices(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		admin.Announce = session.AnnounceEnd
		gate := func() *session.Manager {
			t.Helper()
			m, err := session.NewManager(ctx, session.Config{Store: st, Realm: realm, Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		issue := func(m *session.Manager, device string) string {
			t.Helper()
			tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, session.Where{Device: &device})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		m := gate()
		lost, other := issue(m, "lost"), issue(m, "other")
		// Unlisted (pushed off her list): only the device's end ends it.
		if err := st.Delete(ctx, store.Key("sessions", realm, "alice")); err != nil {
			t.Fatal(err)
		}
		if err := session.EndDevice(ctx, st, realm, "alice", "lost", nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		export, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		key := endkeys.Device(realm, "alice", "lost")
		carried := false
		for _, r := range export {
			if r.Key == key {
				carried = r.Until != nil && r.Until.After(time.Now().Add(session.LongestLifetime-time.Minute))
			}
		}
		if !carried {
			t.Fatalf("the export does not carry the device's end with its expiry: %v", export)
		}
		if err := st.Delete(ctx, key); err != nil { // a store without it
			t.Fatal(err)
		}
		before := gate()
		if before.Check(ctx, lost) == nil {
			t.Fatal("the lost phone's session refused on a store without its end")
		}
		if _, err := admin.Import(ctx, export); err != nil {
			t.Fatal(err)
		}
		if before.Check(ctx, lost) != nil {
			t.Error("a gate that had checked the lost phone's session serves it after the import")
		}
		if after := gate(); after.Check(ctx, lost) != nil || after.Check(ctx, other) == nil {
			t.Error("after the import, the lost phone's session is live, or another phone's ended")
		}
	})
}

// TestDeviceEndsExpire: each removal of a device writes its end with an
// expiry (session.LongestLifetime and Leeway past the removal), so a
// user's add-and-remove loop no longer leaves one record for good a loop
// (before: 300 loops, 300 records with no expiry, a reset leaving them).
func TestDeviceEndsExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, clk := appService(t)
	const loops = 20
	for i := range loops {
		setup, err := s.Devices.StartApp(ctx, realm, alice, "Example")
		if err != nil {
			t.Fatalf("loop %d: %v", i, err)
		}
		code, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		id, added, err := s.Devices.ConfirmApp(ctx, sc, alice, code, "app")
		if err != nil || !added {
			t.Fatalf("loop %d: %v %v", i, added, err)
		}
		if _, err := s.Devices.Remove(ctx, realm, alice, id, true); err != nil {
			t.Fatalf("loop %d: %v", i, err)
		}
		if err := session.EndDevice(ctx, s.Store, realm, alice, id, nil, clk.now()); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Second)
	}
	n := 0
	e := s.Store.(store.Expiring)
	least, most := clk.now().Add(session.LongestLifetime-time.Duration(loops+5)*time.Second), time.Now().Add(session.LongestLifetime+session.Leeway+time.Minute)
	if err := e.ScanExpiring(ctx, endkeys.DevicePrefix, func(key string, _ []byte, exp time.Time) error {
		n++
		if exp.Before(least) || exp.After(most) {
			t.Errorf("%s expires at %v, not %v past its removal", key, exp, session.LongestLifetime)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != loops {
		t.Errorf("%d device ends, want %d", n, loops)
	}
}
