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

// TestAnImportRacingARevokeKeepsTheRevoke: the admin imports an export
// taken before (alice's record says she was revoked at t0) while alice is
// revoked again (a reset, a sign-out everywhere: t1, later). The later
// revocation stays, whichever is written first: on Badger and on a real
// Redis, raceRuns times at once, then in every interleaving of their
// reads of her record. Before, the import wrote t0 over t1 whenever it
// came second (TestAnImportBringsNoEndedSessionBack: the sessions t1 ended
// live again), and it read nothing to interleave.
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
			if err := session.RevokeUser(ctx, st, realm, user, t0); err != nil {
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
			var errImport, errRevoke error
			return storetest.Pair{Key: store.Key("revoked-user", realm, user),
				A: func(ctx context.Context) { errImport = admin.Import(ctx, records) },
				B: func(ctx context.Context) { errRevoke = session.RevokeUser(ctx, il, realm, user, t1) },
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
