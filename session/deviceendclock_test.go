package session

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARemovalEndsTheDevicesSessionsWhateverTheClocks (clock32 1): a
// device's removal wrote its end "every session it earned issued until
// now" by the removing gate's clock, and ended by SID only the sessions
// of it her list held when read. A session the device earned a moment
// before at a gate 20 s ahead, pushed off her list by her newer sign-ins
// (before the removal, or by one racing it at that gate), was ended by
// the clocks alone: its iat is later than the end's, and it stayed. Now
// the removal moves its end on to the newest session pushed off her list
// (at most Leeway past its own clock), as a revoke does. Her sessions of
// another device stay. Each run races the removal at the gate on time
// with a sign-in on the device at the gate ahead that pushes the first
// off; a run of each store's pushes it off before. On Badger and a real
// Redis. Failed before the fix: the first session live.
func TestARemovalEndsTheDevicesSessionsWhateverTheClocks(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		real := time.Now()
		ahead := real.Add(20 * time.Second)
		a, b := gateOn(t, st, &real), gateOn(t, st, &ahead)
		lost, other := "LOST", "OTHER"
		sign := func(user, device string) string {
			tok, _, err := b.IssueBegun(ctx, Began{}, user, []factor.AMR{factor.AMRSMS}, Where{Device: &device})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		const runs = 12
		for run := range runs {
			user := fmt.Sprint("alice", run)
			first := sign(user, lost) // the thief's, at the gate ahead
			var hers []string
			for range MaxListed - 1 { // her list full
				hers = append(hers, sign(user, other))
			}
			removal := func() {
				if err := EndDevice(ctx, st, "example.com", user, lost, nil, real); err != nil {
					t.Error(err)
				}
			}
			if run == 0 { // pushed off before the removal
				hers = append(hers, sign(user, other))
				removal()
			} else { // a sign-in on the device at the gate ahead, at once
				var wg sync.WaitGroup
				wg.Go(removal)
				wg.Go(func() { sign(user, lost) })
				wg.Wait()
			}
			if a.Uncached(ctx, first) != nil {
				t.Errorf("run %d: the removed device's session, signed a moment before at a gate 20 s ahead and pushed off her list, still counts", run)
			}
			for i, tok := range hers {
				if a.Uncached(ctx, tok) == nil {
					t.Errorf("run %d: her session %d on another device ended with the removal", run, i)
				}
			}
		}
	})
}
