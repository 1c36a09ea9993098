package signin

import (
	"context"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAFirstSetOfThePreviousReleaseGoesWithTheFirstPhone (attack41 H1,
// the upgrade): the release before wrote a first enrollment's recovery
// codes with no maker (enrollment.Devices.FirstRecoveryCodes alone, no
// recovery-by/ record), so the removal of the phone it came with withdrew
// nothing: an intruder who took a leaked invite first kept the codes once
// the admin removed her phone. Such a set now goes with the removal of
// the user's first device (enrolled before every one left), and stays at
// the removal of a later one; a set whose maker is recorded (a renewal by
// the kept phone) stays at the first device's removal. On Badger and
// Redis, with the records as the release before wrote them. (Before: the
// first phone's removal withdrew nothing, 10 codes left.)
func TestAFirstSetOfThePreviousReleaseGoesWithTheFirstPhone(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := newServiceOn(st, FirstFactor{Open: true})
		d := s.Devices
		add := func(user, e164 string) string {
			t.Helper()
			id, _, err := d.AddIn(ctx, "r", user, e164, "", "en")
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		left := func(user string) int {
			t.Helper()
			n, err := d.RecoveryCodesLeft(ctx, "r", user)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		remove := func(user, id string) bool {
			t.Helper()
			r, err := RemoveDevice(ctx, d, "r", user, id)
			if err != nil {
				t.Fatal(err)
			}
			return r.CodesWithdrawn
		}

		// The previous release's first enrollment: the phone, then its
		// codes, no maker.
		first := add("frank", "+14155559001")
		if r, err := d.FirstRecoveryCodes(ctx, "r", "frank"); err != nil || r == nil {
			t.Fatalf("the first set: %v", err)
		}
		later := add("frank", "+14155559002")
		third := add("frank", "+14155559003")
		if remove("frank", later) || left("frank") != 10 {
			t.Fatalf("a later phone's removal withdrew the previous release's first set: %d codes left", left("frank"))
		}
		if !remove("frank", first) || left("frank") != 0 {
			t.Fatalf("the first phone's removal left the previous release's first set: %d codes left", left("frank"))
		}
		if remove("frank", third) {
			t.Fatal("a removal after the set went says it withdrew codes")
		}

		// A set whose maker is recorded goes with its maker only.
		first = add("gina", "+14155559001")
		kept := add("gina", "+14155559002")
		r, err := d.RenewRecoveryCodes(ctx, "r", "gina")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.MadeBy(ctx, "r", "gina", r, kept); err != nil {
			t.Fatal(err)
		}
		if remove("gina", first) || left("gina") != 10 {
			t.Fatalf("the first phone's removal withdrew a set the kept phone made: %d codes left", left("gina"))
		}
	})
}
