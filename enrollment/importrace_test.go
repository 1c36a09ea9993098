package enrollment

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnImportRacingARevokeKeepsTheRevoke: the admin imports an export
// taken before (alice's record says she was revoked at t0) while alice is
// revoked again (a reset, a sign-out everywhere: t1, later). The later
// revocation stays, whichever is written first: on Badger and on a real
// Redis, raceRuns times at once, then in every interleaving of their
// reads of her record. Before, the import wrote t0 over t1 whenever it
// came second (TestAnImportBringsNoEndedSessionBack: the sessions t1 ended
// live again), and it read nothing to interleave. The store lost t0
// after the export (a restore), so that the import writes it: one read
// and one write in two steps then loses t1 too.
func TestAnImportRacingARevokeKeepsTheRevoke(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, _ := raceService(t, il)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		movedBack, runs := 0, 0
		next := func() storetest.Pair {
			runs++
			user := fmt.Sprint("user", runs)
			if err := session.RevokeUser(ctx, st, realm, user, t0, nil); err != nil {
				t.Fatal(err)
			}
			export, err := admin.Export(ctx, realm, false)
			if err != nil {
				t.Fatal(err)
			}
			var records []Record
			for _, r := range export {
				if r.Key == store.Key("revoked-user", realm, user) {
					records = append(records, r)
				}
			}
			if len(records) != 1 {
				t.Fatalf("the export holds %d revocations of %s", len(records), user)
			}
			// The store lost it since (the export restored): the import
			// has t0 to write. Held as the file has it, it would write
			// nothing, and its read and write in two steps went untried.
			if err := st.Delete(ctx, records[0].Key); err != nil {
				t.Fatal(err)
			}
			var errImport, errRevoke error
			return storetest.Pair{Key: store.Key("revoked-user", realm, user),
				A: func(ctx context.Context) { _, errImport = admin.Import(ctx, records) },
				B: func(ctx context.Context) { errRevoke = session.RevokeUser(ctx, il, realm, user, t1, nil) },
				Check: func() {
					if errImport != nil || errRevoke != nil {
						t.Fatalf("%s: import %v, revoke %v", user, errImport, errRevoke)
					}
					if at, err := session.RevokedBefore(ctx, st, realm, user); err != nil || !at.Equal(t1) {
						movedBack++
					}
				}}
		}
		for range raceRuns {
			p := next()
			race(func() { p.A(ctx) }, func() { p.B(ctx) })
			p.Check()
		}
		atOnce := movedBack
		interleavings := il.Interleave(t, next)
		t.Logf("the revocation moved back in %d of %d runs at once, and in %d of %d interleavings", atOnce, raceRuns, movedBack-atOnce, interleavings)
		if movedBack > 0 || interleavings < 2 {
			t.Errorf("the revocation moved back in %d of %d runs at once, and in %d of %d interleavings (fewer than 2: the import does not read the record it writes over)",
				atOnce, raceRuns, movedBack-atOnce, interleavings)
		}
	})
}

// TestAnExportWhileTheUserChangesDevices: the admin exports while the
// user adds a phone, and while she removes one: the export holds her
// device list whole, as it was before the change or after it, never a
// list half written or one of neither (a phone both added and removed).
// On Badger and on a real Redis, raceRuns times at once (an export scans:
// no read of it an Interleaver holds).
func TestAnExportWhileTheUserChangesDevices(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	phoneA := Device{ID: "a", Name: "A", Phone: num, Enrolled: earlier}
	phoneB := Device{ID: "b", Name: "B", Phone: "+14155550100", Enrolled: earlier}
	onRaceStores(t, func(t *testing.T, st store.Store) {
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		seen := map[string]int{}
		for i := range raceRuns {
			user := fmt.Sprint("export", i)
			putDevices(t, s.Devices, user, phoneA, phoneB)
			var export []Record
			var errExport, errChange error
			change := func() {
				if i%2 == 0 {
					_, errChange = s.Devices.Add(ctx, realm, user, "+14155550101", "C")
				} else {
					_, errChange = s.Devices.Remove(ctx, realm, user, "a", false)
				}
			}
			race(func() { export, errExport = admin.Export(ctx, realm, false) }, change)
			if errExport != nil || errChange != nil {
				t.Fatalf("run %d: export %v, change %v", i, errExport, errChange)
			}
			var list []Device
			for _, r := range export {
				if r.Key == deviceKey(realm, user) {
					if err := json.Unmarshal(r.Value, &list); err != nil {
						t.Fatalf("run %d: the exported list: %v", i, err)
					}
				}
			}
			ids := ""
			for _, d := range list {
				ids += d.ID
			}
			// Before: a and b; after the add: a, b and the new one (its ID
			// random); after the removal: b.
			switch {
			case ids == "ab":
				seen["before"]++
			case ids == "b" && i%2 == 1 || len(list) == 3 && ids[:2] == "ab" && i%2 == 0:
				seen["after"]++
			default:
				seen["neither: "+ids]++
			}
		}
		t.Logf("%d runs at once, the export holding her list: %v", raceRuns, seen)
		if seen["before"]+seen["after"] != raceRuns {
			t.Errorf("%d runs at once: %v", raceRuns, seen)
		}
	})
}
