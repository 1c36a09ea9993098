package enrollment

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARacedLoginLeavesTheNumbersWait: of two posts of a name at a login
// form at once from one client, the one that lost the record of the
// doubling (errRaced) is undone without putting back the number's waits
// as it read them: they are the other send's, whose code went out, so the
// number typed right after from that client is held (no text). Each race
// runs on Badger and on a real Redis, in every interleaving of the two
// sends' reads of the doubling's record and raceRuns times at once. An
// undo that put the number's waits back (as before the merge of the
// streak work, where undo always did) erased them: the number got a
// second text at once.
func TestARacedLoginLeavesTheNumbersWait(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, out, clk := raceService(t, il)
		s.ResendCooldown = 30 * time.Second
		ctx := context.Background()
		sent := map[bool]map[int]int{true: {}, false: {}} // runs by codes sent, by held
		runs, held := 0, true
		next := func() storetest.Pair {
			runs++
			clk.advance(2 * cooldownMemory) // every wait of the run before forgotten
			sc := loginForm
			sc.IP = fmt.Sprint("192.0.2.", runs)
			name := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
			number := name
			number.LimitKey = "login " + num
			before := out.sentCount()
			return twoSends(t, s, sc, name, runs, func() {
				if _, err := s.Start(ctx, sc, number); err != nil {
					t.Fatalf("run %d, the number typed after: %v", runs, err)
				}
				if n := out.sentCount() - before; n != 1 {
					sent[held][n]++
				}
			})
		}
		interleavings := interleaveThenRace(t, il, next, &held)
		if len(sent[true])+len(sent[false]) > 0 {
			t.Errorf("runs that sent other than one code (codes: runs), of %d interleavings: %v; of %d runs at once: %v",
				interleavings, sent[true], raceRuns, sent[false])
		}
	})
}
