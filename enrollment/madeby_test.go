package enrollment

import (
	"context"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestAMakerRecordedLateNamesNoOtherSet: two renewals at once, by device
// A and device B (the thief's): A's set is written, then B's set and its
// maker, then A records its maker. A's set is no longer the user's, so its
// record must not replace B's: before, it did, and removing B withdrew
// nothing (B's set named A's maker), so the thief's codes outlived his
// phone (review11).
func TestAMakerRecordedLateNamesNoOtherSet(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		a, err := s.Devices.RenewRecoveryCodes(ctx, realm, "alice")
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Devices.RenewRecoveryCodes(ctx, realm, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.MadeBy(ctx, realm, "alice", b, "B"); err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.MadeBy(ctx, realm, "alice", a, "A"); err != nil {
			t.Fatal(err)
		}
		if forgot, err := s.Devices.ForgetCodesMadeBy(ctx, realm, "alice", "B"); err != nil || !forgot {
			t.Fatalf("B removed: its set withdrawn %v (%v); want withdrawn", forgot, err)
		}
	})
}
