package enrollment

import (
	"context"
	"testing"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnAppsRemovalOwesNoNumber: an app's or a passkey's removal owes a
// notice naming no number (before: Masked "•••", which the audit's
// device_removed carried as phone).
func TestAnAppsRemovalOwesNoNumber(t *testing.T) {
	for _, k := range []factor.Device{factor.App, factor.Passkey} {
		if m := OwedOf(Device{ID: "x", Kind: k}).Masked; m != "" {
			t.Errorf("%q removal's notice names a number: %q", k, m)
		}
	}
}

// TestAnUndoneRenewalKeepsTheSetItPutBackItsMaker: A's session made set
// S1; a renewal from A's session writes S2
// and its maker record, then is undone (its session ended meanwhile):
// S1 is put back with its maker record (before: without it). A's removal
// withdraws S1, and a code of S1 names A. On Badger and Redis.
func TestAnUndoneRenewalKeepsTheSetItPutBackItsMaker(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		s1, err := s.Devices.RenewRecoveryCodes(ctx, realm, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.MadeBy(ctx, realm, "alice", s1, "A"); err != nil {
			t.Fatal(err)
		}
		s2, err := s.Devices.RenewRecoveryCodes(ctx, realm, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.MadeBy(ctx, realm, "alice", s2, "A"); err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.UndoRenewal(ctx, realm, "alice", s2); err != nil {
			t.Fatal(err)
		}
		sc := Scope{Realm: realm, Host: host, IP: "192.0.2.1"}
		if maker, err := s.Devices.UseRecoveryCodeOf(ctx, sc, "flow", "alice", s1.Codes[0]); err != nil || maker != "A" {
			t.Errorf("a code of A's put-back set: maker %q (%v); want A", maker, err)
		}
		if forgot, err := s.Devices.ForgetCodesMadeBy(ctx, realm, "alice", "A"); err != nil || !forgot {
			t.Errorf("A removed: its put-back set withdrawn %v (%v); want withdrawn", forgot, err)
		}
	})
}
