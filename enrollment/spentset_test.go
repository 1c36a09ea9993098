package enrollment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestASetWithACodeSpentIsStillItsMakers: device A's session made alice's
// set, and one of its codes is spent (the thief signs another browser in
// with it). The spent code's sign-in names A, and A's removal withdraws
// the codes left. On Badger, Redis and a Cluster. (Before: the record was
// the whole set's hash, which the spend changed: nothing was withdrawn,
// and the sign-in named no device.)
func TestASetWithACodeSpentIsStillItsMakers(t *testing.T) {
	t.Parallel()
	onRaceStoresAndCluster(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		r, err := s.Devices.RenewRecoveryCodes(ctx, realm, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.MadeBy(ctx, realm, "alice", r, "A"); err != nil {
			t.Fatal(err)
		}
		sc := Scope{Realm: realm, Host: host, IP: "192.0.2.1"}
		if maker, err := s.Devices.UseRecoveryCodeOf(ctx, sc, "flow", "alice", r.Codes[0]); err != nil || maker != "A" {
			t.Fatalf("a code of A's set: maker %q (%v); want A", maker, err)
		}
		if forgot, err := s.Devices.ForgetCodesMadeBy(ctx, realm, "alice", "B"); err != nil || forgot {
			t.Fatalf("B removed: A's set withdrawn %v (%v); want kept", forgot, err)
		}
		if forgot, err := s.Devices.ForgetCodesMadeBy(ctx, realm, "alice", "A"); err != nil || !forgot {
			t.Fatalf("A removed: its set, a code spent, withdrawn %v (%v); want withdrawn", forgot, err)
		}
		if err := s.Devices.UseRecoveryCode(ctx, sc, "flow2", "alice", r.Codes[1]); err == nil {
			t.Fatal("a code of the withdrawn set still works")
		}

		// A set no device made: its code names none.
		mine, err := s.Devices.RenewRecoveryCodes(ctx, realm, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if maker, err := s.Devices.UseRecoveryCodeOf(ctx, sc, "flow3", "alice", mine.Codes[0]); err != nil || maker != "" {
			t.Fatalf("a code of a set no device made: maker %q (%v); want none", maker, err)
		}
	})
}

// TestAMakersRecordOfAnEarlierBuildStillWithdraws: a record written by a
// build before the set was known by its codes (the device and the whole
// set's hash) still withdraws that set, unspent, at the device's removal.
func TestAMakersRecordOfAnEarlierBuildStillWithdraws(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		earlierBuildsSet(t, s, st)
		if forgot, err := s.Devices.ForgetCodesMadeBy(ctx, realm, "alice", "A"); err != nil || !forgot {
			t.Fatalf("A removed: its set withdrawn %v (%v); want withdrawn", forgot, err)
		}
	})
}

// earlierBuildsSet renews alice's set and records device A as its maker
// as a build before the per-code digests wrote it (the whole set's hash).
func earlierBuildsSet(t *testing.T, s *Challenges, st store.Store) *Renewal {
	t.Helper()
	ctx := context.Background()
	r, err := s.Devices.RenewRecoveryCodes(ctx, realm, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(r.wrote)
	if err := st.Put(ctx, recoveryByKey(realm, "alice"), []byte("A "+hex.EncodeToString(sum[:16])), 0); err != nil {
		t.Fatal(err)
	}
	return r
}
