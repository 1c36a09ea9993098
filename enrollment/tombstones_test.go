package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// onImportStores runs test on Badger, a Redis server and a Redis Cluster
// (which imports record by record), in parallel subtests.
func onImportStores(t *testing.T, test func(t *testing.T, st store.Store)) {
	onRaceStores(t, test)
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		st, closeCluster, err := store.OpenRedis(&store.Redis{Addresses: redistest.StartCluster(t), Cluster: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeCluster() })
		test(t, st)
	})
}

// deviceIDs is user's devices' IDs, in the store's order.
func deviceIDs(t *testing.T, s *Devices, user string) string {
	t.Helper()
	list, err := s.List(context.Background(), realm, user)
	if err != nil {
		t.Fatal(err)
	}
	ids := ""
	for _, d := range list {
		ids += d.ID
	}
	return ids
}

// withoutTombstones is an export as the release before wrote it: the same
// records, none of removals.
func withoutTombstones(records []Record) []Record {
	return slices.DeleteFunc(slices.Clone(records), func(r Record) bool { return isTombstone(r.Key) })
}

// TestAnImportBringsNoRemovedDeviceOrCodeBack: alice's phone "a" is
// stolen and removed, and she uses a recovery code; the admin then
// imports an export taken before (a restore of last night's backup). The
// phone and the code stay gone, and the import says so; so does a file of
// the release before (no tombstones in it). After she renews her codes, an
// import of the old set keeps her new one. On Badger, a Redis server and a
// Redis Cluster. Before, the import wrote the phone and the code back.
func TestAnImportBringsNoRemovedDeviceOrCodeBack(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	onImportStores(t, func(t *testing.T, st store.Store) {
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		putDevices(t, s.Devices, alice, Device{ID: "a", Name: "A", Phone: num, Enrolled: earlier}, Device{ID: "b", Name: "B", Phone: "+14155550100", Enrolled: earlier})
		first, err := s.Devices.FirstRecoveryCodes(ctx, realm, alice)
		if err != nil || first == nil {
			t.Fatal(first, err)
		}
		before, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Devices.Remove(ctx, realm, alice, "a", false); err != nil {
			t.Fatal(err)
		}
		if err := s.Devices.UseRecoveryCode(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1"}, "flow1", alice, first.Codes[0]); err != nil {
			t.Fatal(err)
		}
		for _, file := range []struct {
			name    string
			records []Record
		}{{"an export", before}, {"an export of the release before", withoutTombstones(before)}} {
			told, err := admin.Import(ctx, file.records)
			if err != nil {
				t.Fatalf("%s: %v", file.name, err)
			}
			left, err := s.Devices.RecoveryCodesLeft(ctx, realm, alice)
			if err != nil {
				t.Fatal(err)
			}
			if ids := deviceIDs(t, s.Devices, alice); ids != "b" || left != RecoveryCount-1 {
				t.Errorf("%s taken before: devices %q, %d recovery codes left; want the removed phone and the used code to stay gone (b, %d)", file.name, ids, left, RecoveryCount-1)
			}
			want := "1 device removed since the export was not restored; 1 recovery code used or replaced since the export was not restored"
			if told.NotRestored != (NotRestored{Devices: 1, RecoveryCodes: 1}) || told.String() != want {
				t.Errorf("%s: the import said %+v %q; want %q", file.name, told, told, want)
			}
			if err := s.Devices.UseRecoveryCode(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1"}, "flow2", alice, first.Codes[0]); err == nil {
				t.Errorf("%s: the used recovery code works again", file.name)
			}
		}
		renewed, err := s.Devices.RenewRecoveryCodes(ctx, realm, alice)
		if err != nil {
			t.Fatal(err)
		}
		told, err := admin.Import(ctx, before)
		if err != nil {
			t.Fatal(err)
		}
		if left, err := s.Devices.RecoveryCodesLeft(ctx, realm, alice); err != nil || left != RecoveryCount || told.RecoveryCodes != RecoveryCount {
			t.Errorf("an import of the set renewed since: %d codes left (%v), told %+v; want the new set's %d, the old one's %d not restored", left, err, told, RecoveryCount, RecoveryCount)
		}
		for _, code := range []string{first.Codes[1], renewed.Codes[0]} {
			err := s.Devices.UseRecoveryCode(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1"}, "flow3"+code, alice, code)
			if old := code == first.Codes[1]; old != (err != nil) {
				t.Errorf("recovery code of the %s set after the import: %v", map[bool]string{true: "replaced", false: "new"}[old], err)
			}
		}
	})
}

// TestARestoreIntoAWipedStoreBringsEverythingBack: a store that lost its
// data holds no tombstones, so a restore there brings back every device
// and code the file holds (the release before's files too); an export
// taken after a removal carries its tombstone, so that the store it moves
// to keeps refusing an older export's copy of the removed phone.
func TestARestoreIntoAWipedStoreBringsEverythingBack(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	s, _, _ := raceService(t, onBadger(t))
	ctx := context.Background()
	putDevices(t, s.Devices, alice, Device{ID: "a", Phone: num, Enrolled: earlier}, Device{ID: "b", Phone: "+14155550100", Enrolled: earlier})
	if _, err := s.Devices.FirstRecoveryCodes(ctx, realm, alice); err != nil {
		t.Fatal(err)
	}
	before, err := (&Admin{Core: s.Core, Devices: s.Devices}).Export(ctx, realm, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Devices.Remove(ctx, realm, alice, "a", false); err != nil {
		t.Fatal(err)
	}
	after, err := (&Admin{Core: s.Core, Devices: s.Devices}).Export(ctx, realm, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range [][]Record{before, withoutTombstones(before)} {
		wiped, _, _ := raceService(t, onBadger(t))
		told, err := (&Admin{Core: wiped.Core, Devices: wiped.Devices}).Import(ctx, file)
		left, _ := wiped.Devices.RecoveryCodesLeft(ctx, realm, alice)
		if ids := deviceIDs(t, wiped.Devices, alice); err != nil || ids != "ab" || left != RecoveryCount || told.NotRestored != (NotRestored{}) {
			t.Errorf("a restore into a wiped store: %v, devices %q, %d codes, told %+v; want everything back", err, ids, left, told)
		}
	}
	moved, _, _ := raceService(t, onBadger(t))
	admin := &Admin{Core: moved.Core, Devices: moved.Devices}
	if _, err := admin.Import(ctx, after); err != nil {
		t.Fatal(err)
	}
	told, err := admin.Import(ctx, before)
	if ids := deviceIDs(t, moved.Devices, alice); err != nil || ids != "b" || told.Devices != 1 {
		t.Errorf("the export before imported after a move: %v, devices %q, told %+v; want the removed phone kept out", err, ids, told)
	}
}

// TestAnImportRacingARemovalKeepsItRemoved: the admin imports an export
// taken while alice had phones a and b, while she removes a. a stays
// removed, whichever runs first: on Badger and a real Redis, in every
// interleaving of their reads of her tombstones, then raceRuns times at
// once. Without the import's second look (Admin.sweep), an import held
// after its first read while the removal ran wrote a back.
func TestAnImportRacingARemovalKeepsItRemoved(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, _ := raceService(t, il)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		back, runs := 0, 0
		next := func() storetest.Pair {
			runs++
			user := fmt.Sprint("user", runs)
			putDevices(t, s.Devices, user, Device{ID: "a", Phone: num, Enrolled: earlier}, Device{ID: "b", Phone: "+14155550100", Enrolled: earlier})
			export, err := admin.Export(ctx, realm, false)
			if err != nil {
				t.Fatal(err)
			}
			records := slices.DeleteFunc(export, func(r Record) bool { return !strings.HasSuffix(r.Key, "/"+user) })
			var errImport, errRemove error
			return storetest.Pair{Key: removedDeviceKey(realm, user),
				A: func(ctx context.Context) { _, errImport = admin.Import(ctx, records) },
				B: func(ctx context.Context) { _, errRemove = s.Devices.Remove(ctx, realm, user, "a", false) },
				Check: func() {
					if errors.Is(errRemove, ErrNoDevice) {
						errRemove = nil // the import's sweep removed it first, as a second window's removal can
					}
					if errImport != nil || errRemove != nil {
						t.Fatalf("%s: import %v, removal %v", user, errImport, errRemove)
					}
					if ids := deviceIDs(t, s.Devices, user); ids != "b" {
						back++
					}
				}}
		}
		interleavings := il.Interleave(t, next)
		inInterleavings := back
		for range raceRuns {
			p := next()
			race(func() { p.A(ctx) }, func() { p.B(ctx) })
			p.Check()
		}
		t.Logf("the removed phone came back in %d of %d interleavings, and in %d of %d runs at once", inInterleavings, interleavings, back-inInterleavings, raceRuns)
		if back > 0 || interleavings < 2 {
			t.Errorf("the removed phone came back in %d of %d interleavings (fewer than 2: the import does not read the tombstones), and in %d of %d runs at once",
				inInterleavings, interleavings, back-inInterleavings, raceRuns)
		}
	})
}

// TestAnExportOfThePreviousReleaseImports: a file the release before
// wrote (testdata/export-previous-release.json: alice's "stolen" and
// "kept" phones and her recovery codes, exported by main at f163517, no
// tombstones in it) imports whole into a wiped store, and into a store
// that removed the stolen phone and renewed the codes since, without them.
func TestAnExportOfThePreviousReleaseImports(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/export-previous-release.json")
	if err != nil {
		t.Fatal(err)
	}
	var file []Record
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, _, _ := raceService(t, onBadger(t))
	admin := &Admin{Core: s.Core, Devices: s.Devices}
	told, err := admin.Import(ctx, file)
	left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, alice)
	if ids := deviceIDs(t, s.Devices, alice); err != nil || ids != "67PZRIP4U5Z2WFE5" || left != RecoveryCount || told.NotRestored != (NotRestored{}) {
		t.Fatalf("the release before's export into a wiped store: %v, devices %q, %d codes, told %+v; want all of it", err, ids, left, told)
	}
	if _, err := s.Devices.Remove(ctx, realm, alice, "67PZRIP4", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Devices.RenewRecoveryCodes(ctx, realm, alice); err != nil {
		t.Fatal(err)
	}
	renewed, _ := s.Core.Store.Get(ctx, recoveryKey(realm, alice))
	told, err = admin.Import(ctx, file)
	now, _ := s.Core.Store.Get(ctx, recoveryKey(realm, alice))
	if ids := deviceIDs(t, s.Devices, alice); err != nil || ids != "U5Z2WFE5" || string(now) != string(renewed) || told.NotRestored != (NotRestored{Devices: 1, RecoveryCodes: RecoveryCount}) {
		t.Errorf("the release before's export after a removal and a renewal: %v, devices %q, codes kept %v, told %+v; want the removed phone and the replaced set left out", err, ids, string(now) == string(renewed), told)
	}
}

// TestAnUndoneRenewalKeepsItsSetImportable: a renewal undone (its codes
// never shown) gives the user back the set it replaced, so an import of an
// export holding that set writes it whole, and leaves out the withdrawn
// set's codes. Before the undo took them back out of the tombstones, an
// import left the user's own codes out.
func TestAnUndoneRenewalKeepsItsSetImportable(t *testing.T) {
	t.Parallel()
	s, _, _ := raceService(t, onBadger(t))
	admin := &Admin{Core: s.Core, Devices: s.Devices}
	ctx := context.Background()
	putDevices(t, s.Devices, alice, Device{ID: "a", Phone: num, Enrolled: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)})
	if _, err := s.Devices.FirstRecoveryCodes(ctx, realm, alice); err != nil {
		t.Fatal(err)
	}
	before, err := admin.Export(ctx, realm, false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Devices.RenewRecoveryCodes(ctx, realm, alice)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Devices.UndoRenewal(ctx, realm, alice, r); err != nil {
		t.Fatal(err)
	}
	told, err := admin.Import(ctx, before)
	left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, alice)
	if err != nil || left != RecoveryCount || told.NotRestored != (NotRestored{}) {
		t.Errorf("an export imported after a renewal undone: %v, %d codes, told %+v; want the user's set whole", err, left, told)
	}
	withdrawn, _ := s.Core.Store.Get(ctx, spentRecoveryKey(realm, alice))
	if hashes := readTombstones(withdrawn, true); len(hashes) != RecoveryCount || slices.ContainsFunc(hashes, func(h string) bool { return strings.Contains(string(before[1].Value), h) }) {
		t.Errorf("the tombstones after the undo: %d, want the withdrawn set's %d and none of the user's", len(hashes), RecoveryCount)
	}
}

// TestAFullRecordOfSpentCodesBringsNoOldSetBack: alice's recovery codes
// are renewed 50 times after a backup was taken (her own page's renew
// button, or a thief signed in as her), which pushes the backup's set out
// of the store's record of spent codes (the newest 500). An import of the
// backup keeps her newest set all the same, the old one not restored: a
// full record takes out whatever the store does not hold now. Before, the
// old set was written back over the new one, silently. On Badger, a Redis
// server and a Redis Cluster.
func TestAFullRecordOfSpentCodesBringsNoOldSetBack(t *testing.T) {
	t.Parallel()
	onImportStores(t, func(t *testing.T, st store.Store) {
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		putDevices(t, s.Devices, alice, Device{ID: "a", Name: "A", Phone: num})
		first, err := s.Devices.FirstRecoveryCodes(ctx, realm, alice)
		if err != nil || first == nil {
			t.Fatal(first, err)
		}
		backup, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		var last *Renewal
		for range maxTombstonesPerUser/RecoveryCount + 1 {
			if last, err = s.Devices.RenewRecoveryCodes(ctx, realm, alice); err != nil {
				t.Fatal(err)
			}
		}
		told, err := admin.Import(ctx, backup)
		if err != nil {
			t.Fatal(err)
		}
		if told.RecoveryCodes != RecoveryCount {
			t.Errorf("the import said %+v; want the old set's %d codes not restored", told, RecoveryCount)
		}
		sc := Scope{Realm: realm, Host: host, IP: "192.0.2.1"}
		if err := s.Devices.UseRecoveryCode(ctx, sc, "flow1", alice, first.Codes[0]); err == nil {
			t.Error("a code of the set renewed away works after the import")
		}
		if err := s.Devices.UseRecoveryCode(ctx, sc, "flow2", alice, last.Codes[0]); err != nil {
			t.Errorf("a code of her newest set after the import: %v", err)
		}
	})
}

// TestARefusedRemovalBuriesNothing: a removal refused (the last device, or
// one she does not hold) buries nothing, so an import of the store's own
// export keeps the device. Before, the refused removal of her only phone
// buried it, and the import left it out ("1 device removed … not restored").
func TestARefusedRemovalBuriesNothing(t *testing.T) {
	t.Parallel()
	s, _, _ := raceService(t, onBadger(t))
	admin := &Admin{Core: s.Core, Devices: s.Devices}
	ctx := context.Background()
	putDevices(t, s.Devices, alice, Device{ID: "a", Phone: num, Enrolled: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)})
	if _, err := s.Devices.Remove(ctx, realm, alice, "a", false); !errors.Is(err, ErrLastDevice) {
		t.Fatalf("removing her only phone: %v, want ErrLastDevice", err)
	}
	if _, err := s.Devices.Remove(ctx, realm, alice, "z", true); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("removing a device she does not hold: %v, want ErrNoDevice", err)
	}
	exported, err := admin.Export(ctx, realm, false)
	if err != nil {
		t.Fatal(err)
	}
	told, err := admin.Import(ctx, exported)
	if ids := deviceIDs(t, s.Devices, alice); err != nil || ids != "a" || told.NotRestored != (NotRestored{}) {
		t.Errorf("an import of the store's own export after refused removals: devices %q, told %+v (%v); want a, nothing left out", ids, told, err)
	}
}
