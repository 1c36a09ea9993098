package enrollment

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnImportRacingAResetLeavesNothing: the admin imports an export
// taken before alice's reset (her phone and her recovery codes) while the
// reset runs (the admin API's: every session revoked, her devices then
// her recovery codes removed, each buried first, revoked again). A reset
// is several writes, not one: an import between them (her phone removed,
// her codes still there) must not leave a phone, nor a code, nor a phone
// without the codes a reset would have left it. Once both are done she
// holds neither, whichever came first: in every interleaving of their
// reads of her device list, her recovery set and the records of what was
// removed from her (tombstones.go), and raceRuns times at
// once, on Badger, a real Redis and a Redis Cluster (where the import
// writes key by key). The tombstones do it (honourTombstones before the
// import writes, sweep after); no store writes a reset in one step.
func TestAnImportRacingAResetLeavesNothing(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	onRaceStoresAndCluster(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, _ := raceService(t, il)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		runs := 0
		left := map[string]int{}
		next := func(key func(user string) string) storetest.Pair {
			runs++
			user := fmt.Sprint("reset", runs)
			putDevices(t, s.Devices, user, Device{ID: "a", Name: "A", Phone: num, Enrolled: earlier})
			if r, err := s.Devices.FirstRecoveryCodes(ctx, realm, user); err != nil || r == nil {
				t.Fatalf("%s's codes: %v", user, err)
			}
			export, err := admin.Export(ctx, realm, false)
			if err != nil {
				t.Fatal(err)
			}
			var records []Record
			for _, r := range export {
				if r.Key == deviceKey(realm, user) || r.Key == recoveryKey(realm, user) {
					records = append(records, r)
				}
			}
			if len(records) != 2 {
				t.Fatalf("the export holds %d of %s's records", len(records), user)
			}
			var errImport, errReset error
			return storetest.Pair{Key: key(user),
				A: func(ctx context.Context) { _, errImport = admin.Import(ctx, records) },
				B: func(ctx context.Context) { errReset = resetUser(ctx, s.Devices, il, user) },
				Check: func() {
					if errImport != nil || errReset != nil {
						t.Fatalf("%s: import %v, reset %v", user, errImport, errReset)
					}
					list, err := s.Devices.List(ctx, realm, user)
					n, err2 := s.Devices.RecoveryCodesLeft(ctx, realm, user)
					switch {
					case err != nil || err2 != nil:
						t.Fatalf("%s: %v %v", user, err, err2)
					case len(list) > 0 && n == 0:
						left["a phone without codes"]++
					case len(list) > 0:
						left["a phone"]++
					case n > 0:
						left["recovery codes"]++
					}
				}}
		}
		interleavings := 0
		for _, key := range []func(string) string{
			func(user string) string { return deviceKey(realm, user) },
			func(user string) string { return recoveryKey(realm, user) },
			func(user string) string { return removedDeviceKey(realm, user) },
			func(user string) string { return spentRecoveryKey(realm, user) },
		} {
			interleavings += il.Interleave(t, func() storetest.Pair { return next(key) })
		}
		for range raceRuns {
			p := next(func(user string) string { return deviceKey(realm, user) })
			race(func() { p.A(ctx) }, func() { p.B(ctx) })
			p.Check()
		}
		t.Logf("%d interleavings and %d runs at once: left after both: %v", interleavings, raceRuns, left)
		if interleavings < 8 || len(left) > 0 {
			t.Errorf("%d interleavings and %d runs at once: left after both: %v", interleavings, raceRuns, left)
		}
	})
}

// resetUser is the admin's reset (admin's adminOp "reset") on st: every
// session revoked, every device and recovery code removed, every trust
// ended, revoked again.
func resetUser(ctx context.Context, d *Devices, st store.Store, user string) error {
	if err := session.RevokeUser(ctx, st, realm, user, time.Now(), nil); err != nil {
		return err
	}
	if err := d.ResetUser(ctx, realm, user); err != nil {
		return err
	}
	if err := session.UntrustAll(ctx, st, realm, user); err != nil {
		return err
	}
	return session.RevokeUser(ctx, st, realm, user, time.Now(), nil)
}
