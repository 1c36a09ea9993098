package enrollment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestAWrongCodeAtALockStartsTheNextCount: max_failures 2. Per user, one
// wrong code, then two at once (a step-up's and a confirmation's, by
// turns which goes first): one brings the account's count to 2 and
// starts its lock, and of the count the other stays, the first of the
// next: 1 after the lock. On Badger, Redis and a Redis Cluster. Before,
// the lock deleted the count whole, whatever was counted after the code
// that began it: wiped in 280 of 300 rounds on Badger, 193 on Redis, 297
// on a Cluster (and as often deleted by a compare-and-delete against the
// count the lock's code saw: the other saw max_failures or more, and
// locked too).
func TestAWrongCodeAtALockStartsTheNextCount(t *testing.T) {
	t.Parallel()
	onRaceStoresAndCluster(t, func(t *testing.T, st store.Store) {
		sc, ctx := enrolled, context.Background()
		s, _, _ := raceService(t, st)
		s.Limits.MaxFailures = 2
		wiped, n := 0, 300
		if strings.HasSuffix(t.Name(), "/redis") {
			// Broken to a read then a write, 300 rounds beside the other
			// stores' lost a code in 1 to 4 here (58 to 70 on Badger, 93
			// to 147 on a Cluster); 1,000 lost it in 163 and 192.
			n = 1000
		}
		for i := range n {
			user := fmt.Sprint("u", i)
			if _, _, err := s.countFailure(ctx, sc, user, true, false); err != nil {
				t.Fatal(err)
			}
			var l [2]*LockedError
			var errs [2]error
			race3(func() { l[0], _, errs[0] = s.countFailure(ctx, sc, user, true, i%2 == 0) },
				func() { l[1], _, errs[1] = s.countFailure(ctx, sc, user, true, i%2 == 1) })
			if errs[0] != nil || errs[1] != nil {
				t.Fatal(errs)
			}
			if (l[0] == nil || !l[0].Account) && (l[1] == nil || !l[1].Account) {
				t.Fatalf("%s: three wrong codes with max_failures 2 started no account lock", user)
			}
			if got, err := st.Counter(ctx, failUserKey(sc, user)); err != nil || got != 1 {
				wiped++
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if wiped > 0 {
			t.Errorf("%d of %d rounds: the account's count after its lock is not 1 (the code at once wiped)", wiped, n)
		}
	})
}

// incrFails is a store whose Incr of key fails while on is set (the store
// answered the batch's other operations).
type incrFails struct {
	store.Store
	key string
	on  bool
}

func (f *incrFails) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if f.on && key == f.key {
		return 0, errors.New("read tcp 127.0.0.1:6379: i/o timeout")
	}
	return f.Store.Incr(ctx, key, ttl)
}

// TestAHalfFailedConfirmationCountTakesNothingBack: a wrong step-up code,
// then a wrong confirmation whose count of the account's total the store
// fails (the store's error answered), then the right confirmation: the
// account's total still holds the step-up's wrong code. Before, the
// confirmation's own count was written in the same batch as the shared
// one that failed, one too high, and the right confirmation took the
// step-up's code back with it (the total at 0). On Badger and a real
// Redis.
func TestAHalfFailedConfirmationCountTakesNothingBack(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		f := &incrFails{Store: st, key: failUserKey(sc, "alice")}
		s, _, clk := appServiceOn(t, f)
		s.Limits = Limits{LockAfter: 100, Lockout: time.Minute, MaxFailures: 100}
		setup, err := s.Devices.StartApp(ctx, realm, "alice", "Example", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.countFailure(ctx, sc, "alice", true, false); err != nil {
			t.Fatal(err)
		}
		f.on = true
		if _, _, err := s.Devices.ConfirmApp(ctx, sc, "alice", "000000", ""); err == nil || errors.As(err, new(*WrongCodeError)) {
			t.Fatalf("a wrong confirmation whose count failed: %v; want the store's error", err)
		}
		f.on = false
		right, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		if _, added, err := s.Devices.ConfirmApp(ctx, sc, "alice", right, ""); err != nil || !added {
			t.Fatalf("the app's right first code: %v, %v", added, err)
		}
		if n, err := st.Counter(ctx, failUserKey(sc, "alice")); err != nil || n != 1 {
			t.Errorf("the account's total after the right confirmation: %d, %v; want the step-up's 1", n, err)
		}
	})
}
