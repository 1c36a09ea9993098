package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/pumping/pumpingtest"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// guardSaw is what the pumping guard counts as sent, in its sliding
// window now, to the country and the prefix of e164, those given back
// aside: as the guard reads it (pumpingtest.Counts).
func guardSaw(t *testing.T, s *Challenges, e164 string) [2]float64 {
	t.Helper()
	saw, _, err := pumpingtest.Counts(context.Background(), s.Guard, realm, e164, s.numberID(e164))
	if err != nil {
		t.Fatal(err)
	}
	return saw
}

// withGuard puts the pumping guard (its defaults) on s, on s's clock.
func withGuard(s *Challenges, clk *clock) {
	s.Guard = &pumping.Guard{Settings: pumping.Defaults, Store: s.Store, Now: clk.now}
}

// TestAHeldSendIsNoCodeToTheGuard: at a login form, alice's number typed
// right after her name (from the same client) is held by the number's
// wait — answered as any send, and no text — and the guard counts it as
// a decoy's (on keys that keep nothing): her country and prefix saw one
// code, not two. Before, the held send was counted as a code sent and
// never used, lowering the place's conversion towards a pause.
func TestAHeldSendIsNoCodeToTheGuard(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	withGuard(s, clk)
	ctx := context.Background()
	name := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
	if _, err := s.Start(ctx, loginForm, name); err != nil {
		t.Fatal(err)
	}
	number := name
	number.LimitKey = "login " + num
	c, err := s.Start(ctx, loginForm, number)
	if err != nil || !errors.As(c.Undelivered, new(*CooldownError)) {
		t.Fatalf("the number typed after the name: %v, %v; want it held by the number's wait", err, c.Undelivered)
	}
	if n := out.sentCount(); n != 1 {
		t.Fatalf("%d texts; want 1", n)
	}
	if saw := guardSaw(t, s, num); saw != [2]float64{1, 1} {
		t.Fatalf("the guard saw %v codes sent to the country and the prefix; want 1 each", saw)
	}
}

// TestARefusedSendIsNoCodeToTheGuard: a send refused by a limit (the
// client's), and one the gateway sent nothing for, give their count in
// the guard back (the IP's window keeps the refused one, as a send): the
// prefix saw the two codes that went.
// Before, each was counted as a code sent, and never used.
func TestARefusedSendIsNoCodeToTheGuard(t *testing.T) {
	t.Parallel()
	s, out, clk := limited(t, Limits{IP: Rate{3, time.Hour}, LockAfter: 10, Lockout: time.Minute, MaxFailures: 100})
	withGuard(s, clk)
	ctx := context.Background()
	if _, err := s.Start(ctx, sc, Challenge{User: "u1", Phone: attacked(1), Purpose: Enroll}); err != nil {
		t.Fatal(err)
	}
	out.err = providers.NotSent(errors.New("connection refused"))
	if _, err := s.Start(ctx, sc, Challenge{User: "u2", Phone: attacked(2), Purpose: Enroll}); !errors.As(err, new(*SendError)) {
		t.Fatalf("a send the gateway refused: %v", err)
	}
	out.err = nil // the refused send keeps its slot of the IP's window (fixb39): one more goes, the third
	if _, err := s.Start(ctx, sc, Challenge{User: "u3", Phone: attacked(3), Purpose: Enroll}); err != nil {
		t.Fatal(err)
	}
	for i := 4; i < 7; i++ {
		var limit *LimitError
		if _, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("u", i), Phone: attacked(i), Purpose: Enroll}); !errors.As(err, &limit) || limit.Limit != "ip" {
			t.Fatalf("send %d: %v; want the IP's limit", i, err)
		}
	}
	if saw := guardSaw(t, s, attacked(1)); saw != [2]float64{2, 2} || out.sentCount() != 2 {
		t.Fatalf("the guard saw %v codes sent to the country and the prefix, of %d texts; want 2 each", saw, out.sentCount())
	}
}

// TestARacedSendIsCountedOnce: alice's name posted at a login form at the
// same instant from two clients sends one text, and the guard counts one
// code: the send that lost the claim of the waits gives its count back
// with the rest of it, and its second try, held by the winner's wait,
// counts none (or is refused by that wait). Raced in every interleaving of the sends' reads of the
// name's base wait, and at once, on Badger and a real Redis. Before, the
// loser was counted and given back nothing: two codes (or three, where
// its second try went on), one text.
func TestARacedSendIsCountedOnce(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, out, clk := raceService(t, il)
		s.ResendCooldown = 30 * time.Second
		withGuard(s, clk)
		name := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
		wrong := map[bool][]string{}
		runs, held := 0, true
		next := func() storetest.Pair {
			runs++
			clk.advance(2 * cooldownMemory) // every wait and count of the run before forgotten
			scA, scB := loginForm, loginForm
			scA.IP, scB.IP = fmt.Sprint("192.0.2.", runs), fmt.Sprint("198.51.100.", runs)
			before := out.sentCount()
			send := func(sc Scope) func(context.Context) {
				return func(ctx context.Context) {
					if _, err := s.Start(ctx, sc, name); err != nil && !errors.As(err, new(*CooldownError)) {
						t.Errorf("run %d: %v", runs, err)
					}
				}
			}
			return storetest.Pair{Key: s.cooldownKey(scA, &name), A: send(scA), B: send(scB), Check: func() {
				texts := float64(out.sentCount() - before)
				if saw := guardSaw(t, s, num); saw != [2]float64{texts, texts} {
					wrong[held] = append(wrong[held], fmt.Sprintf("%v texts, counted %v", texts, saw))
				}
			}}
		}
		interleavings := interleaveThenRace(t, il, next, &held)
		if len(wrong[true])+len(wrong[false]) > 0 {
			t.Errorf("runs the guard counted otherwise, of %d interleavings: %v; of %d runs at once: %v",
				interleavings, wrong[true], raceRuns, wrong[false])
		}
	})
}

// TestAGivenBackCountEndsWithItsCodes: an enrolled number's counts given
// back (sends the gateway sent nothing for) correct the unused codes
// counted with them, and end when those do: the counter of its unused
// codes is a fixed window (unusedMemory), and once it has ended (deleted
// here, as its expiry would), the number's owner in a paused range gets
// Grace codes unused, not Grace more for each count given back before.
// Before, the given-back counter outlived it and hid as many new unused
// codes.
func TestAGivenBackCountEndsWithItsCodes(t *testing.T) {
	t.Parallel()
	for name, open := range guardStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, out, clk, heard := guarded(t, open(t))
			ctx := context.Background()
			owner := Challenge{User: "owner", Phone: attacked(99999), Purpose: Verify}
			if _, err := s.Start(ctx, sc, owner); err != nil {
				t.Fatal(err)
			}
			out.err = providers.NotSent(errors.New("connection refused"))
			for range pumping.Defaults.Grace {
				clk.advance(5 * time.Minute)
				if _, err := s.Start(ctx, sc, owner); !errors.As(err, new(*SendError)) {
					t.Fatalf("a send the gateway sent nothing for: %v", err)
				}
			}
			out.err = nil
			unused := store.Key("pumping", realm, "unused", s.numberID(owner.Phone))
			if err := s.Store.Delete(ctx, unused); err != nil {
				t.Fatal(err)
			}
			for i := 0; heard.len() == 0; i++ {
				if _, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot", i), Phone: attacked(i), Purpose: Enroll}); err != nil && !isPumping(err) {
					t.Fatal(err)
				}
			}
			for i := range pumping.Defaults.Grace {
				clk.advance(5 * time.Minute)
				if _, err := s.Start(ctx, sc, owner); err != nil {
					t.Fatalf("the owner's code %d in a paused range: %v", i+1, err)
				}
			}
			clk.advance(5 * time.Minute)
			if _, err := s.Start(ctx, sc, owner); !isPumping(err) {
				t.Fatalf("the owner's code after %d unused: %v; want the range's pause", pumping.Defaults.Grace, err)
			}
		})
	}
}

// pauseFails is a store on which the guard cannot write a pause (an
// outage of that one record): Update fails.
type pauseFails struct{ store.Store }

func (pauseFails) Update(context.Context, string, func([]byte, bool) ([]byte, time.Duration, error)) error {
	return errors.New("the store went away")
}

// TestASendTheGuardFailedToJudgeIsNoCode: a send whose place the guard
// found due a pause, but could not pause (the store failed its write), is
// taken back as any send the store failed, and gives its count back: the
// place's window counts the texts that went, not each try the outage
// refused. Before, only a send the guard refused kept its count (its
// pause weighed it): each failed one was a code sent and never used.
func TestASendTheGuardFailedToJudgeIsNoCode(t *testing.T) {
	t.Parallel()
	s, out, _, _ := guarded(t, nil)
	s.Guard.Store = pauseFails{s.Store}
	ctx := context.Background()
	failed := 0
	for i := range 30 {
		if _, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot", i), Phone: attacked(i), Purpose: Enroll}); err != nil {
			failed++
		}
	}
	texts := float64(out.sentCount())
	if saw := guardSaw(t, s, attacked(0)); failed == 0 || saw != [2]float64{texts, texts} {
		t.Fatalf("%v texts, %d sends failed; the guard saw %v codes sent to the country and the prefix", texts, failed, saw)
	}
}
