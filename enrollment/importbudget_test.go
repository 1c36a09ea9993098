package enrollment

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// slowTombstones is a store whose writes of tombstones each take delay
// of their request's store time (inside the store's call: a slow Redis).
type slowTombstones struct {
	store.Store
	delay time.Duration
}

func (s slowTombstones) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	return s.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		if isTombstone(key) {
			time.Sleep(s.delay)
		}
		return change(old, found)
	})
}

// TestAnImportsTombstonesHaveABudgetEach: an import is as long as its
// export, so each of the file's tombstones has a request's store budget
// of its own, as every other record it writes has, not a share of one.
// Before, they all shared one (store.RequestBudget): a file with more
// users' removals than one budget writes was refused, on a store that
// answers in time each time.
func TestAnImportsTombstonesHaveABudgetEach(t *testing.T) {
	onRaceStores(t, func(t *testing.T, st store.Store) {
		const users = 40
		delay := store.RequestBudget / (users - 10) // 40 of them outlast one budget
		s, _, _ := raceService(t, slowTombstones{Store: st, delay: delay})
		var file []Record
		for i := range users {
			file = append(file, Record{Key: removedDeviceKey(realm, fmt.Sprint("user", i)), Value: []byte(`["gone"]`)})
		}
		if _, err := (&Admin{Core: s.Core, Devices: s.Devices}).Import(context.Background(), file); err != nil {
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
