package signin

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// readTogether is a store whose first two Scans answer only once both
// were asked (5 s at most): two settles that read the record before
// either writes.
type readTogether struct {
	store.Store
	arrived sync.WaitGroup
}

func (r *readTogether) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	if err := r.Store.Scan(ctx, prefix, fn); err != nil {
		return err
	}
	r.arrived.Done()
	waited := make(chan struct{})
	go func() { r.arrived.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
	}
	return nil
}

// TestTwoSettlesAtOnceEndInOneOfTheirRecords: two instances on one store
// start at once with other `user` lines for carol (one gives her P1, the
// other P2) and read no record. The record left is one of theirs, and,
// as it replaced the other's, carol's sessions are ended (what the
// number it dropped earned). On Badger and Redis. (Before, each wrote its
// own blindly: the last one's record stood over the first's, and nothing
// ended — the first instance's number's sessions lived on.)
func TestTwoSettlesAtOnceEndInOneOfTheirRecords(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, inner store.Store) {
		ctx := context.Background()
		st := &readTogether{Store: inner}
		st.arrived.Add(2)
		one, other := newServiceOn(st, nil), newServiceOn(st, nil)
		one.Logger, other.Logger = zap.NewNop(), zap.NewNop()
		other.Users = map[string]User{"carol": {Name: "carol", Phone: "+447400123456"}}
		records := map[string]bool{}
		for _, s := range []*Service{one, other} {
			records[s.Devices.NumberID(keyCheck)+" "+s.Devices.NumberID(s.Users["carol"].Phone)] = true
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*Service{one, other} {
			wg.Go(func() { errs[i] = settleRealm(ctx, time.Time{}, s) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("settles: %v, %v", errs[0], errs[1])
		}
		v, err := inner.Get(ctx, provisionedKey("r", "carol"))
		if err != nil || !records[string(v)] {
			t.Fatalf("the record left is %q (%v), neither settle's", v, err)
		}
		at, err := session.RevokedBefore(ctx, inner, "r", "carol")
		if err != nil || at.IsZero() {
			t.Fatalf("the record replaced the other settle's number and ended nothing (%v)", err)
		}
	})
}
