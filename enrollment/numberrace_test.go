package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// loginRace races two login-form sends, a and b, each from its own
// client, on Badger and on a real Redis: in every interleaving of their
// reads of the record key names (storetest.Interleaver), then raceRuns
// times at once; and on Badger made to claim in turn, as a Redis Cluster
// claims records of several slots (store.Batch.Claim). want says what the run should have sent (the messages
// of the run, by number); a run that sent otherwise is counted, and the
// counts reported.
func loginRace(t *testing.T, key func(s *Challenges, a, b Scope) string, a, b Challenge, want func(sent map[string]int) bool) {
	t.Parallel()
	kinds, redis := raceKinds(t)
	for _, kind := range append(kinds, "in turn") {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var st store.Store
			if kind == "in turn" {
				st = struct{ store.Store }{raceStore(t, "badger", redis)} // no store.Claimer
			} else {
				st = raceStore(t, kind, redis)
			}
			il := &storetest.Interleaver{Store: st}
			s, out, clk := raceService(t, il)
			s.ResendCooldown = 30 * time.Second
			ctx := context.Background()
			wrong := map[bool][]map[string]int{} // runs that sent otherwise, by held
			runs, held := 0, true
			next := func() storetest.Pair {
				runs++
				clk.advance(2 * cooldownMemory) // every wait of the run before forgotten
				scA, scB := loginForm, loginForm
				scA.IP, scB.IP = fmt.Sprint("192.0.2.", runs), fmt.Sprint("198.51.100.", runs)
				if a.LimitKey == b.LimitKey { // one client posting twice
					scB.IP = scA.IP
				}
				before := out.sentCount()
				var errA, errB error
				send := func(sc Scope, c Challenge, err *error) func(context.Context) {
					return func(ctx context.Context) { _, *err = s.Start(ctx, sc, c) }
				}
				return storetest.Pair{Key: key(s, scA, scB), A: send(scA, a, &errA), B: send(scB, b, &errB),
					Check: func() {
						for _, err := range []error{errA, errB} {
							if err != nil && !errors.As(err, new(*CooldownError)) {
								t.Fatalf("run %d: %v", runs, err)
							}
						}
						out.mu.Lock()
						sent := map[string]int{}
						for _, m := range out.sent[before:] {
							sent[m.To]++
						}
						out.mu.Unlock()
						if !want(sent) {
							wrong[held] = append(wrong[held], sent)
						}
					}}
			}
			interleavings := il.Interleave(t, next)
			if interleavings < 2 {
				t.Fatalf("%d interleavings: the sends do not both read the record", interleavings)
			}
			held = false
			for range raceRuns {
				p := next()
				race(func() { p.A(ctx) }, func() { p.B(ctx) })
				p.Check()
			}
			if len(wrong[true])+len(wrong[false]) > 0 {
				t.Errorf("runs that sent otherwise (texts by number), of %d interleavings: %v; of %d runs at once: %v",
					interleavings, wrong[true], raceRuns, wrong[false])
			}
		})
	}
}

// TestANameAndItsNumberAtOnceSendOneText: at a login form, alice's name
// and alice's number posted at the same instant (two clients) send one
// text, not two: each read the number's wait as it was, and the send
// that claims it second (its cooldown and the number's waits claimed as
// one, store.Batch.Claim) wrote none of its records, is decided again and
// held by the first's wait (answered as a failed delivery is, so that it
// tells nothing). Raced in every interleaving of the two sends' reads of
// the number's base wait, and at once. Before, the number's waits were
// put beside the cooldown's swap: both sends passed, two texts.
func TestANameAndItsNumberAtOnceSendOneText(t *testing.T) {
	name := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
	number := name
	number.LimitKey = "login " + num
	loginRace(t, func(s *Challenges, a, _ Scope) string {
		shared, _ := s.numberWaitKeys(a, &name)
		return shared
	}, name, number, func(sent map[string]int) bool { return sent[num] == 1 && len(sent) == 1 })
}

// TestALostRaceLeavesNoNumberWait: alice's name posted twice at once from
// one client, the code going to one of her phones and to the other (two
// tabs, each having picked a phone): the send that lost the record of
// the doubling sent nothing, so it leaves no wait on its number, and is
// decided again: each phone gets its text. Raced in every interleaving of
// the sends' reads of the doubling's record, and at once. Before, the
// loser's number wait stood (lostRace undid the send but for it): its
// second try found its own wait and held its number — no text to it
// until that wait ended.
func TestALostRaceLeavesNoNumberWait(t *testing.T) {
	const other = "+14155550100"
	first := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
	second := first
	second.Phone = other
	loginRace(t, func(s *Challenges, a, _ Scope) string { return s.doublingKey(a, &first) },
		first, second, func(sent map[string]int) bool { return sent[num] == 1 && sent[other] == 1 && len(sent) == 2 })
}
