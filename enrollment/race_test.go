package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// Two changes to one user at once must both keep their effect: these
// tests race them on Badger and on a real Redis and count what was lost.
// -race finds data races in memory; only a count like this finds lost
// updates in a store. Each race runs two ways: every interleaving of the
// two changes' store reads, forced (storetest.Interleaver: a lost update
// shows on every run, not once in a hundred), and raceRuns times as
// closely together as goroutines allow (for -race, and for what no
// interleaving of the reads foresaw). The interleavings already play
// every order of the reads, so the suite plays 20 runs at once (a sweep of
// raceAfter's ten delays twice, each kind of run of the passkey race ten
// times); SMSGATE_FULL=1 plays 50.
var raceRuns = 20

func init() {
	if os.Getenv("SMSGATE_FULL") != "" {
		raceRuns = 50
	}
}

// raceStore opens a store of a kind for a race test: a Badger of its own
// (its syncs wait for no other test's), or a database of its own on the
// binary's shared Redis (storetest.Redis).
func raceStore(t *testing.T, kind string) store.Store {
	if kind == "badger" {
		st, closeDB, err := store.OpenBadger(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeDB() })
		return st
	}
	return storetest.Redis(t)
}

// raceKinds are the stores every race runs on.
var raceKinds = []string{"badger", "redis"}

// redisStore is a store on Redis (a test that counts its round trips).
func redisStore(t *testing.T) store.Store { return raceStore(t, "redis") }

// onRaceStores runs test on each store a race runs on (raceStore), in
// parallel subtests named by its kind.
func onRaceStores(t *testing.T, test func(t *testing.T, st store.Store)) {
	raceStores(t)("", test)
}

// raceStores returns on: test run on each store a race runs on
// (raceStore), in parallel subtests of t named name+kind.
func raceStores(t *testing.T) (on func(name string, test func(t *testing.T, st store.Store))) {
	return func(name string, test func(t *testing.T, st store.Store)) {
		for _, kind := range raceKinds {
			t.Run(name+kind, func(t *testing.T) {
				t.Parallel()
				test(t, raceStore(t, kind))
			})
		}
	}
}

// spin is how much of raceAfter's delay is a busy wait: more than a
// sleep oversleeps on a busy machine.
const spin = 300 * time.Microsecond

// interleaveThenRace runs next's pairs in every interleaving of their
// reads of a record (il), then raceRuns times at once, each checked;
// *held says to the pairs' checks which of the two is running. It answers
// how many interleavings there were.
func interleaveThenRace(t *testing.T, il *storetest.Interleaver, next func() storetest.Pair, held *bool) int {
	t.Helper()
	*held = true
	interleavings := il.Interleave(t, next)
	if interleavings < 2 {
		t.Fatalf("%d interleavings: the sends do not both read the record", interleavings)
	}
	*held = false
	ctx := context.Background()
	for range raceRuns {
		p := next()
		race(func() { p.A(ctx) }, func() { p.B(ctx) })
		p.Check()
	}
	return interleavings
}

// race runs a and b at once, as closely together as goroutines allow.
func race(a, b func()) { raceAfter(0, a, b) }

// raceAfter runs a and b at once, a started delay after b, so that a sweep
// of delays lands a anywhere in b. A sleep alone is too coarse, a busy wait
// alone burns a CPU for the whole delay (half the package's CPU time, which
// the other tests' b then lacked): it sleeps until spin before the time,
// then busy-waits to it.
func raceAfter(delay time.Duration, a, b func()) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, f := range []func(){a, b} {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			if i == 0 {
				at := time.Now().Add(delay)
				if d := delay - spin; d > 0 {
					time.Sleep(d)
				}
				for time.Now().Before(at) {
				}
			}
			f()
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// raceService is a service on st with no send limits (every run sends).
func raceService(t *testing.T, st store.Store) (*Challenges, *outbox, *clock) {
	s, out, clk := newServiceOn(t, st)
	s.Limits = Limits{}
	s.ResendCooldown = 0
	return s, out, clk
}

// putDevices writes user's device list as the store keeps it.
func putDevices(t *testing.T, s *Devices, user string, list ...Device) {
	t.Helper()
	raw, _ := json.Marshal(list)
	if err := s.Store.Put(context.Background(), deviceKey(realm, user), raw, 0); err != nil {
		t.Fatal(err)
	}
}

// byID finds a device in a list.
func byID(list []Device, id string) *Device {
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	return nil
}

// deviceRace is two changes to one user's devices, raced.
type deviceRace struct {
	name string
	// devices is the user's list before the race.
	devices []Device
	// a and b are the changes, each with the context to use.
	a, b func(ctx context.Context, s *Challenges, user string) error
	// lost says what the list after the race lost, if anything.
	lost func(list []Device) string
}

// TestRacesKeepEveryChange: a phone removed while the user signs in with
// another never comes back, and the sign-in's "last used" is kept; two
// removals both hold; a rename and a change of default both hold; two
// phones added at once are both there. Each race runs on Badger and on a
// real Redis, in every interleaving and raceRuns times at once.
func TestRacesKeepEveryChange(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) // newService's clock
	earlier := now.Add(-time.Hour)
	phoneA := Device{ID: "a", Name: "A", Phone: num, Enrolled: earlier, LastUsed: earlier.Add(-time.Hour)}
	phoneB := Device{ID: "b", Name: "B", Phone: "+14155550100", Enrolled: earlier, LastUsed: earlier}
	phoneC := Device{ID: "c", Name: "C", Phone: "+14155550101", Enrolled: earlier}
	remove := func(id string) func(context.Context, *Challenges, string) error {
		return func(ctx context.Context, s *Challenges, user string) error {
			_, err := s.Devices.Remove(ctx, realm, user, id, false)
			return err
		}
	}
	add := func(e164 string) func(context.Context, *Challenges, string) error {
		return func(ctx context.Context, s *Challenges, user string) error {
			_, err := s.Devices.Add(ctx, realm, user, e164, "")
			return err
		}
	}
	races := []deviceRace{{
		name: "RemovalVsSignIn", devices: []Device{phoneA, phoneB},
		a: remove("a"),
		b: func(ctx context.Context, s *Challenges, user string) error {
			// A whole sign-in with phone B: the code sent, then typed.
			out := s.Sender.(*outbox)
			c, err := s.Start(ctx, enrolled, Challenge{User: user, Phone: phoneB.Phone, Purpose: Verify, DeviceID: "b"})
			if err != nil {
				return err
			}
			out.mu.Lock()
			code := out.sent[len(out.sent)-1].Code
			out.mu.Unlock()
			_, err = s.Check(ctx, enrolled, c, code)
			return err
		},
		lost: func(list []Device) string {
			switch b := byID(list, "b"); {
			case byID(list, "a") != nil:
				return "the removed phone came back"
			case b == nil || !b.LastUsed.Equal(now):
				return "the sign-in's last use was lost"
			}
			return ""
		},
	}, {
		name: "TwoRemovals", devices: []Device{phoneA, phoneB, phoneC},
		a: remove("a"), b: remove("b"),
		lost: func(list []Device) string {
			if len(list) != 1 || list[0].ID != "c" {
				return "a removed phone came back"
			}
			return ""
		},
	}, {
		name: "RenameVsDefault", devices: []Device{phoneA, phoneB},
		a: func(ctx context.Context, s *Challenges, user string) error {
			return s.Devices.Rename(ctx, realm, user, "a", "renamed")
		},
		b: func(ctx context.Context, s *Challenges, user string) error {
			return s.Devices.MakeDefault(ctx, realm, user, "b")
		},
		lost: func(list []Device) string {
			switch {
			case byID(list, "a").Name != "renamed":
				return "the rename was lost"
			case list[0].ID != "b":
				return "the change of default was lost"
			}
			return ""
		},
	}, {
		name: "TwoAdds", devices: []Device{phoneA},
		a: add(phoneB.Phone), b: add(phoneC.Phone),
		lost: func(list []Device) string {
			if len(list) != 3 {
				return "an added phone was lost"
			}
			return ""
		},
	}}
	on := raceStores(t)
	for _, r := range races {
		on(r.name+"/", func(t *testing.T, st store.Store) {
			il := &storetest.Interleaver{Store: st}
			s, _, _ := raceService(t, il)
			lost := map[string]int{}
			check := func(run, user string, errA, errB error) {
				t.Helper()
				if errA != nil || errB != nil {
					t.Fatalf("%s: %v, %v", run, errA, errB)
				}
				list, err := s.Devices.List(context.Background(), realm, user)
				if err != nil {
					t.Fatal(err)
				}
				if what := r.lost(list); what != "" {
					lost[what]++
				}
			}
			// Every interleaving: one change held after each of its
			// reads of the list in turn while the other runs whole.
			runs := 0
			interleavings := il.Interleave(t, func() storetest.Pair {
				runs++
				user := fmt.Sprint(r.name, "-held-", runs)
				putDevices(t, s.Devices, user, r.devices...)
				var errA, errB error
				return storetest.Pair{Key: deviceKey(realm, user),
					A:     func(ctx context.Context) { errA = r.a(ctx, s, user) },
					B:     func(ctx context.Context) { errB = r.b(ctx, s, user) },
					Check: func() { check(fmt.Sprint("interleaving ", runs), user, errA, errB) }}
			})
			if interleavings < 2 {
				t.Fatalf("%d interleavings: the changes do not both read the list", interleavings)
			}
			// At once, a started up to b's duration after b, a tenth
			// more each run, so that it lands anywhere in b.
			var took time.Duration // how long the last b took
			for i := range raceRuns {
				ctx := context.Background()
				user := fmt.Sprint(r.name, i)
				putDevices(t, s.Devices, user, r.devices...)
				var errA, errB error
				raceAfter(took*time.Duration(i%10)/10, func() { errA = r.a(ctx, s, user) }, func() {
					began := time.Now()
					errB = r.b(ctx, s, user)
					took = time.Since(began)
				})
				check(fmt.Sprint("run ", i), user, errA, errB)
			}
			if len(lost) > 0 {
				t.Errorf("in %d interleavings and %d runs at once: %v", interleavings, raceRuns, lost)
			}
		})
	}
}

// TestRacingPasskeyAssertions: two assertions of one passkey at once, on
// Badger and on a real Redis, in every interleaving and raceRuns times at
// once. A sign counter never goes back (the one kept is the highest
// accepted), and two assertions with the same counter (a cloned key) are
// never both accepted: the clone check is not skipped by racing it. One
// of the two always passes.
func TestRacingPasskeyAssertions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, _ := raceService(t, il)
		withPasskeys(t, s)
		key := fakes.NewAuthenticator("example.com", "https://example.com")
		answer := passkeyMade(t, s, key, alice, "register")
		if _, err := s.Devices.FinishPasskey(ctx, realm, alice, "register", "en", answer); err != nil {
			t.Fatal(err)
		}
		// assert begins a sign-in as flow and answers it with counter n.
		assert := func(flow string, n uint32) []byte {
			opts, err := s.Devices.BeginPasskeyLogin(ctx, realm, alice, flow)
			if err != nil {
				t.Fatal(err)
			}
			key.Counter = n - 1
			raw, err := key.Get(mustJSON(t, opts))
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		finish := func(ctx context.Context, flow string, raw []byte) bool {
			answer, err := protocol.ParseCredentialRequestResponseBytes(raw)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = s.Devices.FinishPasskeyLogin(ctx, sc, alice, flow, answer)
			if err != nil && !errors.Is(err, ErrPasskey) {
				t.Errorf("a sign-in with a passkey: %v", err)
			}
			return err == nil
		}
		stored := func() uint32 {
			list, err := s.Devices.List(ctx, realm, alice)
			if err != nil || len(list) != 1 {
				t.Fatalf("devices %v, %v", list, err)
			}
			var c webauthn.Credential
			if err := json.Unmarshal(list[0].Credential, &c); err != nil {
				t.Fatal(err)
			}
			return c.Authenticator.SignCount
		}
		wentBack, clones, none := 0, 0, 0
		n, flows := uint32(0), 0
		// next readies two assertions to race: counters n+1 and n+2
		// (the higher one is what stays), or a clone's n+1 twice (one
		// at most passes).
		next := func(clone bool) storetest.Pair {
			second := n + 2
			if clone {
				second = n + 1
			}
			flowA, flowB := fmt.Sprint("a", flows), fmt.Sprint("b", flows)
			flows++
			a, b := assert(flowA, n+1), assert(flowB, second)
			var okA, okB bool
			return storetest.Pair{Key: deviceKey(realm, alice),
				A: func(ctx context.Context) { okA = finish(ctx, flowA, a) },
				B: func(ctx context.Context) { okB = finish(ctx, flowB, b) },
				Check: func() {
					want := n
					if okA {
						want = n + 1
					}
					if okB {
						want = max(want, second)
					}
					switch got := stored(); {
					case got < want:
						wentBack++
					case okA && okB && clone:
						clones++
					case !okA && !okB:
						none++
					}
					n = second
				}}
		}
		// Every interleaving: one held after each of its reads of the
		// device list in turn while the other runs whole; one counter
		// ahead, then a clone.
		interleavings := 0
		for _, clone := range []bool{false, true} {
			interleavings += il.Interleave(t, func() storetest.Pair { return next(clone) })
		}
		if interleavings < 4 {
			t.Fatalf("%d interleavings: the assertions do not both read the device list", interleavings)
		}
		// At once: even runs one counter ahead, odd runs a clone.
		for i := range raceRuns {
			p := next(i%2 == 1)
			race(func() { p.A(ctx) }, func() { p.B(ctx) })
			p.Check()
		}
		if wentBack > 0 || clones > 0 || none > 0 {
			t.Errorf("in %d interleavings and %d runs at once: the counter went back %d times; both of two equal counters accepted %d times; neither accepted %d times",
				interleavings, raceRuns, wentBack, clones, none)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
