package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// loginRace races two login-form sends, a and b, from two clients (one
// where one says so), on Badger and on a real Redis: in every interleaving of their
// reads of the record key names (storetest.Interleaver), then raceRuns
// times at once; and on the kinds of store more names: "in turn" (Badger
// made to claim in turn, as a store that claims nothing itself does),
// "cluster" (a Redis Cluster: a claim of records of several slots, swaps
// side by side), store.Batch.Claim's other ways.
// want is what each run should send (texts, by number): exactly, or
// where a claim is not one atomic step (sentAsWanted) and exact is not
// set, no more; a run that sent otherwise is counted, and the counts
// reported.
func loginRace(t *testing.T, one, exact bool, key func(s *Challenges, a, b Scope) string, a, b Challenge, want map[string]int, more ...string) {
	t.Parallel()
	for _, kind := range append(raceKinds, more...) {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var st store.Store
			oneStep := exact || kind == "badger" || kind == "redis" // a claim made in one atomic step
			switch kind {
			case "in turn":
				st = struct{ store.Store }{raceStore(t, "badger")} // no store.Claimer
			case "cluster":
				cluster, closeCluster, err := store.OpenRedis(&store.Redis{Addresses: redistest.StartCluster(t), Cluster: true})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = closeCluster() })
				st = cluster
			default:
				st = raceStore(t, kind)
			}
			il := &storetest.Interleaver{Store: st}
			s, out, clk := raceService(t, il)
			s.ResendCooldown = 30 * time.Second
			wrong := map[bool][]map[string]int{} // runs that sent otherwise, by held
			runs, held := 0, true
			next := func() storetest.Pair {
				runs++
				clk.advance(2 * cooldownMemory) // every wait of the run before forgotten
				scA, scB := loginForm, loginForm
				scA.IP, scB.IP = fmt.Sprint("192.0.2.", runs), fmt.Sprint("198.51.100.", runs)
				if one {
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
						if !sentAsWanted(sent, want, oneStep) {
							wrong[held] = append(wrong[held], sent)
						}
					}}
			}
			interleavings := interleaveThenRace(t, il, next, &held)
			if len(wrong[true])+len(wrong[false]) > 0 {
				t.Errorf("runs that sent otherwise (texts by number), of %d interleavings: %v; of %d runs at once: %v",
					interleavings, wrong[true], raceRuns, wrong[false])
			}
		})
	}
}

// sentAsWanted says whether a run sent what was wanted: exactly, where a
// claim is one atomic step; where it is made in swaps (a Cluster's, one
// in turn), no more: there a send that read a record another's claim held
// for a moment, one it then gave back, may be held by it, and the other
// then refused by that one's wait (both answered, neither texted: a
// "send again" after the wait sends; store.Batch.Claim).
func sentAsWanted(sent, want map[string]int, oneStep bool) bool {
	for to, n := range sent {
		if n > want[to] || oneStep && n < want[to] {
			return false
		}
	}
	return !oneStep || len(sent) == len(want)
}

// TestANameAndItsNumberAtOnceSendOneText: at a login form, alice's name
// and alice's number posted at the same instant (two clients) send one
// text, not two: each read the number's wait as it was, and the send
// that claims it second (its cooldown and the number's waits claimed as
// one, store.Batch.Claim) wrote none of its records, is decided again and
// held by the first's wait (answered as a failed delivery is, so that it
// tells nothing). Raced in every interleaving of the two sends' reads of
// the number's base wait, and at once, also on a Redis Cluster and in
// turn. Before, the number's waits were put beside the cooldown's swap:
// both sends passed, two texts.
func TestANameAndItsNumberAtOnceSendOneText(t *testing.T) {
	name := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
	number := name
	number.LimitKey = "login " + num
	loginRace(t, false, true, func(s *Challenges, a, _ Scope) string {
		shared, _ := s.numberWaitKeys(a, &name)
		return shared
	}, name, number, map[string]int{num: 1}, "in turn", "cluster")
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
	loginRace(t, true, true, func(s *Challenges, a, _ Scope) string { return s.doublingKey(a, &first) },
		first, second, map[string]int{num: 1, other: 1}, "in turn")
}

// TestANameFromTwoClientsAtOnceSendsOneText: alice's name posted at a
// login form at the same instant from two clients sends one text: the
// waits everyone typing the name, or her number, shares (the name's base
// wait, the number's) are claimed with each client's own records, so the
// second send is decided again and held. Raced on the name's base wait.
// Before, they were put beside the swap of each client's own record: both
// sends passed, two texts.
func TestANameFromTwoClientsAtOnceSendsOneText(t *testing.T) {
	name := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
	loginRace(t, false, false, func(s *Challenges, a, _ Scope) string { return s.cooldownKey(a, &name) },
		name, name, map[string]int{num: 1}, "in turn")
}
