package signin

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAProvisionedNumberTakenAwayAfterARestoreEndsWhatItEarned: the store
// holding carol's provisioned number is exported and imported into a new
// one (with the keys: the same code key), and the next load gives her
// another number: her sessions end there as on the store before. An
// export without those records (the previous release's) still imports,
// and a record no settle wrote is refused. On Badger and Redis. (Before,
// the records were not exported: the new store's first settle found none
// and ended nothing.)
func TestAProvisionedNumberTakenAwayAfterARestoreEndsWhatItEarned(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, restored store.Store) {
		ctx := context.Background()
		before := newServiceOn(storetest.Badger(t), nil)
		before.Logger = zap.NewNop()
		if err := settleRealm(ctx, time.Time{}, before); err != nil {
			t.Fatal(err)
		}
		records, err := before.Invites.Export(ctx, "r", false)
		if err != nil {
			t.Fatal(err)
		}
		carried := func(r enrollment.Record) bool { return strings.Contains(r.Key, enrollment.ProvisionedNumbers+"/") }
		after := newServiceOn(restored, nil)
		after.Logger = zap.NewNop()
		previous := slices.DeleteFunc(slices.Clone(records), carried)
		if _, err := after.Invites.Import(ctx, previous); err != nil {
			t.Fatalf("an export without provisioned numbers (the previous release's): %v", err)
		}
		bad := enrollment.Record{Key: "b64:" + provisionedKey("r", "carol"), Value: []byte(`"bm9uZQ=="`)} // "none": no hash
		if _, err := after.Invites.Import(ctx, append(slices.Clone(previous), bad)); err == nil {
			t.Fatal("a provisioned numbers' record of one word was imported")
		}
		if _, err := after.Invites.Import(ctx, records); err != nil {
			t.Fatal(err)
		}
		after.Users = map[string]User{"carol": {Name: "carol", Phone: "+447400123456"}}
		if err := settleRealm(ctx, time.Time{}, after); err != nil {
			t.Fatal(err)
		}
		if at, err := session.RevokedBefore(ctx, restored, "r", "carol"); err != nil || at.IsZero() {
			t.Fatalf("the number taken away after a restore ended nothing (%v)", err)
		}
	})
}
