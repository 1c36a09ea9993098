package enrollment

import (
	"context"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnImportedMakerGoesWithItsSet: device A's session made alice's set,
// then she renewed (a set no device made), and device T's session (the
// thief's) renewed again. An export taken before holds A's set and maker;
// imported back (a restore of last night's backup), A's set stays out (its
// codes were replaced since: tombstones), and so must its maker: written
// alone, it would name A as the maker of no set, and T's set would name
// none, so that T's removal withdrew nothing. A file's maker with its set
// is written (an export carries it: a restore keeps the set T made tied
// to T). On Badger, a Redis server and a Redis Cluster.
func TestAnImportedMakerGoesWithItsSet(t *testing.T) {
	t.Parallel()
	onImportStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		made := func(device string) *Renewal {
			t.Helper()
			r, err := s.Devices.RenewRecoveryCodes(ctx, realm, alice)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Devices.MadeBy(ctx, realm, alice, r, device); err != nil {
				t.Fatal(err)
			}
			return r
		}
		made("A")
		before, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Devices.RenewRecoveryCodes(ctx, realm, alice); err != nil {
			t.Fatal(err)
		}
		thiefs := made("T")
		if _, err := admin.Import(ctx, before); err != nil {
			t.Fatal(err)
		}
		if forgot, err := s.Devices.ForgetCodesMadeBy(ctx, realm, alice, "T"); err != nil || !forgot {
			t.Fatalf("T removed after an import of an older set's maker: its set withdrawn %v (%v); want withdrawn", forgot, err)
		}
		if err := s.Devices.UseRecoveryCode(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1"}, "flow", alice, thiefs.Codes[0]); err == nil {
			t.Fatal("a code of T's withdrawn set still works")
		}

		// Exported with its set and imported into a store that lost both: T's again.
		theirs := made("T")
		moved, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{recoveryKey(realm, alice), recoveryByKey(realm, alice)} {
			if err := st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := admin.Import(ctx, moved); err != nil {
			t.Fatal(err)
		}
		sc := Scope{Realm: realm, Host: host, IP: "192.0.2.1"}
		if maker, err := s.Devices.UseRecoveryCodeOf(ctx, sc, "flow2", alice, theirs.Codes[0]); err != nil || maker != "T" {
			t.Fatalf("a code of T's set after a restore: maker %q (%v); want T", maker, err)
		}
	})
}
