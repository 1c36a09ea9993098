package enrollment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// setFault is a store whose next write of a recovery set fails, as a
// store that went away for a moment; it counts the writes of records of
// spent codes (bury's Updates, each a round trip).
type setFault struct {
	store.Store
	fail   atomic.Bool
	buries atomic.Int64
}

func (f *setFault) Update(ctx context.Context, k string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if strings.HasPrefix(k, "recovery/") && f.fail.CompareAndSwap(true, false) {
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	if strings.HasPrefix(k, spentRecoveryPrefix) {
		f.buries.Add(1)
	}
	return f.Store.Update(ctx, k, change)
}

// spentCodes is what the store's record of user's spent codes holds.
func spentCodes(t *testing.T, st store.Store, user string) []string {
	t.Helper()
	raw, err := st.Get(context.Background(), spentRecoveryKey(realm, user))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return readTombstones(raw, err == nil)
}

// TestASetWriteTheStoreFailedBuriesNothing: a recovery code typed, or a
// renewal, whose write of the set the store fails leaves the codes the
// user's: unburied, usable, and restored whole by an import of an export
// taken before. Before, they were buried ahead of the write, and the
// import left them out as spent. On Badger and a Redis server.
func TestASetWriteTheStoreFailedBuriesNothing(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		fault := &setFault{Store: st}
		s, _, _ := raceService(t, fault)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		sc := Scope{Realm: realm, Host: host, IP: "192.0.2.1"}
		putDevices(t, s.Devices, alice, Device{ID: "a", Phone: num})
		codes, err := s.Devices.NewRecoveryCodes(ctx, realm, alice)
		if err != nil {
			t.Fatal(err)
		}
		export, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		fault.fail.Store(true)
		if err := s.Devices.UseRecoveryCode(ctx, sc, "flow1", alice, codes[0]); err == nil {
			t.Fatal("a code typed while the store failed its set's write was taken")
		}
		fault.fail.Store(true)
		if _, err := s.Devices.RenewRecoveryCodes(ctx, realm, alice); err == nil {
			t.Fatal("a renewal whose write the store failed was made")
		}
		if spent := spentCodes(t, st, alice); len(spent) != 0 {
			t.Errorf("%d codes buried by writes the store failed; want none", len(spent))
		}
		told, err := admin.Import(ctx, export)
		left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, alice)
		if err != nil || told.NotRestored != (NotRestored{}) || left != RecoveryCount {
			t.Errorf("an export imported after the failed writes: %v, told %+v, %d codes; want the set whole", err, told, left)
		}
		if err := s.Devices.UseRecoveryCode(ctx, sc, "flow2", alice, codes[0]); err != nil {
			t.Errorf("the code typed while the store failed, typed again: %v", err)
		}
		if spent := spentCodes(t, st, alice); len(spent) != 1 {
			t.Errorf("%d codes buried after one used; want 1", len(spent))
		}
	})
}

// TestARenewalBuriesTheOldSetOnce: renewing alice's codes writes the
// record of spent codes once (the set it replaced), in one round trip, and
// so does forgetting them (a reset). Before, each buried the stored set
// ahead of the write and again after it (the second an unchanged round
// trip).
func TestARenewalBuriesTheOldSetOnce(t *testing.T) {
	t.Parallel()
	fault := &setFault{Store: onBadger(t)}
	s, _, _ := raceService(t, fault)
	ctx := context.Background()
	for i, want := range []int64{0, 1, 1} { // the first set replaces none
		fault.buries.Store(0)
		if _, err := s.Devices.RenewRecoveryCodes(ctx, realm, alice); err != nil {
			t.Fatal(err)
		}
		if n := fault.buries.Load(); n != want {
			t.Errorf("renewal %d: %d updates of the record of spent codes; want %d", i+1, n, want)
		}
	}
	if spent := spentCodes(t, fault.Store, alice); len(spent) != 2*RecoveryCount {
		t.Errorf("%d codes buried after two renewals; want %d", len(spent), 2*RecoveryCount)
	}
	fault.buries.Store(0)
	if err := s.Devices.ForgetRecoveryCodes(ctx, realm, alice); err != nil {
		t.Fatal(err)
	}
	if n, spent := fault.buries.Load(), spentCodes(t, fault.Store, alice); n != 1 || len(spent) != 3*RecoveryCount {
		t.Errorf("a reset's codes: %d updates of the record of spent codes, %d codes buried; want 1, %d", n, len(spent), 3*RecoveryCount)
	}
}

// TestAnImportRacingASpentCodeKeepsItSpent: the admin imports an export
// taken while alice held her first set of codes, while she uses one, or
// renews the set. The code used, or every code of the set replaced,
// stays spent, whichever runs first: on Badger and a real Redis, in every
// interleaving of their reads of her record of spent codes, then raceRuns
// times at once. A code is buried after it is spent (retire); without its
// second spending, an import that wrote the set back after the spending,
// and looked again (Admin.sweep) before the bury, brought the code back.
func TestAnImportRacingASpentCodeKeepsItSpent(t *testing.T) {
	t.Parallel()
	on := raceStores(t)
	for _, renew := range []bool{false, true} {
		on(map[bool]string{false: "use-", true: "renew-"}[renew], func(t *testing.T, st store.Store) {
			il := &storetest.Interleaver{Store: st}
			s, _, _ := raceService(t, il)
			admin := &Admin{Core: s.Core, Devices: s.Devices}
			ctx := context.Background()
			back, runs := 0, 0
			next := func() storetest.Pair {
				runs++
				user := fmt.Sprint("user", runs)
				sc := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("2001:db8:%x::1", runs)}
				putDevices(t, s.Devices, user, Device{ID: "a", Phone: num})
				old, err := s.Devices.NewRecoveryCodes(ctx, realm, user)
				if err != nil {
					t.Fatal(err)
				}
				export, err := admin.Export(ctx, realm, false)
				if err != nil {
					t.Fatal(err)
				}
				records := slices.DeleteFunc(export, func(r Record) bool { return !strings.HasSuffix(r.Key, "/"+user) })
				var errImport, errSpend error
				return storetest.Pair{Key: spentRecoveryKey(realm, user),
					A: func(ctx context.Context) { _, errImport = admin.Import(ctx, records) },
					B: func(ctx context.Context) {
						if renew {
							_, errSpend = s.Devices.RenewRecoveryCodes(ctx, realm, user)
						} else {
							errSpend = s.Devices.UseRecoveryCode(ctx, sc, fmt.Sprint("flow", runs), user, old[0])
						}
					},
					Check: func() {
						if errImport != nil || errSpend != nil {
							t.Fatalf("%s: import %v, spending %v", user, errImport, errSpend)
						}
						sc.IP = fmt.Sprintf("2001:db8:%x:1::1", runs)
						if s.Devices.UseRecoveryCode(ctx, sc, fmt.Sprint("check", runs), user, old[0]) == nil {
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
			t.Logf("the spent code came back in %d of %d interleavings, and in %d of %d runs at once", inInterleavings, interleavings, back-inInterleavings, raceRuns)
			if back > 0 || interleavings < 2 {
				t.Errorf("the spent code came back in %d of %d interleavings (fewer than 2: they do not both read the record of spent codes), and in %d of %d runs at once",
					inInterleavings, interleavings, back-inInterleavings, raceRuns)
			}
		})
	}
}
