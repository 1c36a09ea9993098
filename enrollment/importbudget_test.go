package enrollment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	budgetclock "github.com/smsgate/caddy-smsgate/internal/clock" // beside the tests' own clock
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// slowTombstones is a store whose writes of tombstones each take delay
// of their request's store time (inside the store's call: a slow Redis),
// on the budgets' clock (clock.ForBudgets) and not in real time: a real
// sleep let a loaded machine add its own time to each write's, and the
// import failed on a store that answered in time each time.
type slowTombstones struct {
	store.Store
	delay time.Duration
	spent *atomic.Int64 // the budgets' clock: delay for each write so far
}

func (s slowTombstones) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	return s.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		if isTombstone(key) {
			s.spent.Add(int64(s.delay))
		}
		return change(old, found)
	})
}

// now is the budgets' clock: the delays so far.
func (s slowTombstones) now() time.Time { return time.Unix(0, s.spent.Load()) }

// TestAnImportsTombstonesHaveABudgetEach: an import is as long as its
// export, so each of the file's tombstones has a request's store budget
// of its own, as every other record it writes has, not a share of one.
// Before, they all shared one (store.RequestBudget): a file with more
// users' removals than one budget writes was refused, on a store that
// answers in time each time.
func TestAnImportsTombstonesHaveABudgetEach(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		const users = 40
		delay := store.RequestBudget / (users - 10) // 40 of them outlast one budget
		slow := slowTombstones{Store: st, delay: delay, spent: new(atomic.Int64)}
		s, _, _ := raceService(t, slow)
		var file []Record
		for i := range users {
			file = append(file, Record{Key: removedDeviceKey(realm, fmt.Sprint("user", i)), Value: []byte(`["gone"]`)})
		}
		if _, err := (&Admin{Core: s.Core, Devices: s.Devices}).Import(budgetclock.ForBudgets(context.Background(), slow.now), file); err != nil {
			t.Fatalf("an import of %d users' tombstones, each written in %v: %v", users, delay, err)
		}
		n := 0
		_ = st.Scan(context.Background(), removedDevicePrefix, func(key string, _ []byte) error {
			n += strings.Count(key, "/user")
			return nil
		})
		if n != users {
			t.Fatalf("%d tombstones written; want %d", n, users)
		}
	})
}

// TestAnImportSpendsNotItsCallersBudget: the admin API calls Import with
// its request's store budget (admin.Bounded); the import's own work on
// each record has a budget of its own, so a file of many users is not
// refused once the caller's is spent. The caller's budget here is spent
// before the import begins (none: each call under it answers
// ErrBudgetSpent at once). Before, the second look at each record's
// tombstones (sweep) and each end's announcement ran under the caller's
// budget, and the import failed.
func TestAnImportSpendsNotItsCallersBudget(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		s, _, _ := raceService(t, st)
		s.Announce = func(ctx context.Context, st store.Store, key string, _ []byte) error { // a store call, as session.AnnounceEnd's
			if _, err := st.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		}
		ctx := store.WithBudget(context.Background(), 0) // spent
		var file []Record
		for i := range 40 {
			user := fmt.Sprint("user", i)
			file = append(file, Record{Key: deviceKey(realm, user), Value: []byte(`[{"id":"a","phone":"+14155550100"}]`)},
				Record{Key: endkeys.User(realm, user), Value: []byte(`"2026-12-01T00:00:00Z"`)})
		}
		if _, err := (&Admin{Core: s.Core, Devices: s.Devices}).Import(ctx, file); err != nil {
			t.Fatalf("an import of 40 users under a caller's budget already spent: %v", err)
		}
	})
}
