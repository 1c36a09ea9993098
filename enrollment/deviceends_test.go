package enrollment

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnExportCarriesTheEndsOfDevices: the end of a removed phone's
// sessions (session.EndDevice), which alone ends one off her list, goes in
// an export, with no expiry, as a
// trust's end; imported into a store that lacks it (a move, a restore),
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
				carried = r.Until == nil
			}
		}
		if !carried {
			t.Fatalf("the export does not carry the device's end with no expiry: %v", export)
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
