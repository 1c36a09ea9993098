package enrollment

import (
	"context"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestAMakersRecordOfAnEarlierBuildOutlivesACodeSpent: a record written
// by a build before the set was known by its codes (the device and the
// whole set's hash) is rewritten in this build's form at a code's use: the
// code names A, and A's removal withdraws what is left of the set, and so
// after a second code spent. On Badger and Redis. (Before: the code named
// no device, and the set, a code spent, was withdrawn by nothing.)
func TestAMakersRecordOfAnEarlierBuildOutlivesACodeSpent(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		r := earlierBuildsSet(t, s, st)
		sc := Scope{Realm: realm, Host: host, IP: "192.0.2.1"}
		for i := range 2 {
			if maker, err := s.Devices.UseRecoveryCodeOf(ctx, sc, "flow", "alice", r.Codes[i]); err != nil || maker != "A" {
				t.Errorf("code %d of A's set of an earlier build: maker %q (%v); want A", i+1, maker, err)
			}
		}
		if forgot, err := s.Devices.ForgetCodesMadeBy(ctx, realm, "alice", "A"); err != nil || !forgot {
			t.Errorf("A removed: its set of an earlier build, two codes spent, withdrawn %v (%v); want withdrawn", forgot, err)
		}
	})
}
