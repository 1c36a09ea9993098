package enrollment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// Races of what an admin and a user (or two gates, or two browsers) do to
// one user at once, on Badger and on a real Redis, in every interleaving of
// their reads of the record they share and raceRuns times at once
// (interleaveThenRace). An acknowledged change lasts, a removed phone never
// comes back, and what is used once works once.

// sentCode is the code of the last message out sent.
func sentCode(out *outbox) string {
	out.mu.Lock()
	defer out.mu.Unlock()
	return out.sent[len(out.sent)-1].Code
}

// TestAnAdminsRemovalWhileTheUserAddsAPhone: the admin's remove-device
// (allowed the last device, as the admin API's devices/remove is) of a
// phone while the user types the code that adds another. The removed
// phone never comes back and the added one is kept, whichever came first:
// with another phone left beside it, and with the removed phone the user's
// only one.
func TestAnAdminsRemovalWhileTheUserAddsAPhone(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	on := raceStores(t)
	for _, tc := range []struct {
		name       string
		phones     int // the user's before the race
		verifyOnly bool
	}{{"2Devices/", 2, false}, {"1Device/", 1, false}, {"VerifyOnly/", 2, true}} {
		on(tc.name, func(t *testing.T, st store.Store) {
			il := &storetest.Interleaver{Store: st}
			s, out, _ := raceService(t, il)
			admin := &Admin{Core: s.Core, Devices: s.Devices}
			if tc.verifyOnly {
				s.PhoneKey = []byte("fedcba9876543210fedcba9876543210") // numbers kept as hashes, each one user's
			}
			ctx := context.Background()
			lost := map[string]int{}
			runs := 0
			var held bool
			next := func() storetest.Pair {
				runs++
				user := fmt.Sprint("u", runs)
				// Numbers of the run's own: in verify-only mode a number is one user's.
				numbers := []string{fmt.Sprintf("+1415555%04d", 3*runs), fmt.Sprintf("+1415555%04d", 3*runs+1)}
				added := fmt.Sprintf("+1415555%04d", 3*runs+2)
				var before []Device
				for i, e164 := range numbers[:tc.phones] {
					d := Device{ID: string(rune('a' + i)), Name: "P", Phone: e164, Enrolled: earlier}
					if tc.verifyOnly {
						d.Phone, d.PhoneHMAC = "", s.PhoneHMAC(e164)
						if ok, err := s.Devices.claim(ctx, realm, user, e164); err != nil || !ok {
							t.Fatal(ok, err)
						}
					}
					before = append(before, d)
				}
				putDevices(t, s.Devices, user, before...)
				c, err := s.Start(ctx, enrolled, Challenge{User: user, Phone: added, Purpose: Add})
				if err != nil {
					t.Fatal(err)
				}
				code := sentCode(out)
				var errRemove, errAdd error
				return storetest.Pair{Key: deviceKey(realm, user),
					A: func(ctx context.Context) { _, errRemove = admin.Devices.Remove(ctx, realm, user, "a", true) },
					B: func(ctx context.Context) { _, errAdd = s.Check(ctx, enrolled, c, code) },
					Check: func() {
						if errRemove != nil || errAdd != nil {
							t.Fatalf("run %d (held %v): the removal %v, the adding %v", runs, held, errRemove, errAdd)
						}
						list, err := s.Devices.List(ctx, realm, user)
						if err != nil {
							t.Fatal(err)
						}
						switch {
						case byID(list, "a") != nil:
							lost["the removed phone came back"]++
						case len(list) != len(before) || !slices.ContainsFunc(list, func(d Device) bool { return s.Devices.Matches(&d, added) }):
							lost["the added phone was lost"]++
						}
						if tc.verifyOnly {
							if owner, _ := s.Devices.Owner(ctx, realm, numbers[0]); owner != "" {
								lost["the removed phone's number stayed bound"]++
							}
							for _, e164 := range []string{numbers[1], added} {
								if owner, _ := s.Devices.Owner(ctx, realm, e164); owner != user {
									lost["a kept phone's number was not bound to its user"]++
								}
							}
						}
					}}
			}
			n := interleaveThenRace(t, il, next, &held)
			t.Logf("%d interleavings and %d runs at once", n, raceRuns)
			if len(lost) > 0 {
				t.Errorf("in %d interleavings and %d runs at once: %v", n, raceRuns, lost)
			}
		})
	}
}

// TestTwoGatesRemoveTwoPhonesAtOnce: two gates of one realm on one store
// (two Caddy sites: two services, nothing shared but the store) each
// remove a different phone of one user at once. Both removals last. Where
// neither gate allows removing the last device and the user holds two, one
// removal is refused and a phone stays: racing is no way round the rule.
func TestTwoGatesRemoveTwoPhonesAtOnce(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	phones := []Device{
		{ID: "a", Name: "A", Phone: num, Enrolled: earlier, LastUsed: earlier},
		{ID: "b", Name: "B", Phone: "+14155550100", Enrolled: earlier},
		{ID: "c", Name: "C", Phone: "+14155550101", Enrolled: earlier},
	}
	on := raceStores(t)
	for _, n := range []int{3, 2} {
		on(fmt.Sprintf("%dPhones/", n), func(t *testing.T, st store.Store) {
			il := &storetest.Interleaver{Store: st}
			one, _, _ := raceService(t, il)
			two, _, _ := raceService(t, il)
			ctx := context.Background()
			lost := map[string]int{}
			runs := 0
			var held bool
			next := func() storetest.Pair {
				runs++
				user := fmt.Sprint("u", runs)
				putDevices(t, one.Devices, user, phones[:n]...)
				var errA, errB error
				return storetest.Pair{Key: deviceKey(realm, user),
					A: func(ctx context.Context) { _, errA = one.Devices.Remove(ctx, realm, user, "a", false) },
					B: func(ctx context.Context) { _, errB = two.Devices.Remove(ctx, realm, user, "b", false) },
					Check: func() {
						list, err := one.Devices.List(ctx, realm, user)
						if err != nil {
							t.Fatal(err)
						}
						refused := 0
						for _, err := range []error{errA, errB} {
							switch {
							case errors.Is(err, ErrLastDevice):
								refused++
							case err != nil:
								t.Fatalf("run %d: %v, %v", runs, errA, errB)
							}
						}
						switch {
						case len(list) == 0:
							lost["the user was left with no device"]++
						case n == 3 && (refused > 0 || len(list) != 1 || list[0].ID != "c"):
							lost["a removal was lost or refused"]++
						case n == 2 && (refused != 1 || len(list) != 1):
							lost["not one removal of two refused"]++
						case errA == nil && byID(list, "a") != nil, errB == nil && byID(list, "b") != nil:
							lost["a removed phone came back"]++
						}
					}}
			}
			k := interleaveThenRace(t, il, next, &held)
			t.Logf("%d interleavings and %d runs at once", k, raceRuns)
			if len(lost) > 0 {
				t.Errorf("in %d interleavings and %d runs at once: %v", k, raceRuns, lost)
			}
		})
	}
}

// TestRenewingRecoveryCodesWhileAnOldOneIsUsed: the user makes a new set
// of recovery codes while one of the old set is typed (at a sign-in in
// another browser). The old code passes only before the renewal: once the
// renewal is done the stored set is the new one, whole (all RecoveryCount
// codes, each working), and no old code works.
func TestRenewingRecoveryCodesWhileAnOldOneIsUsed(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, _ := raceService(t, il)
		ctx := context.Background()
		lost := map[string]int{}
		passed := 0
		runs := 0
		var held bool
		next := func() storetest.Pair {
			runs++
			user := fmt.Sprint("u", runs)
			old, err := s.Devices.NewRecoveryCodes(ctx, realm, user)
			if err != nil {
				t.Fatal(err)
			}
			from := func(i int) Scope {
				return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("198.51.%d.%d", runs, i)}
			}
			var r *Renewal
			var errRenew, errUse error
			return storetest.Pair{Key: recoveryKey(realm, user),
				A: func(ctx context.Context) { r, errRenew = s.Devices.RenewRecoveryCodes(ctx, realm, user) },
				B: func(ctx context.Context) {
					errUse = s.Devices.UseRecoveryCode(ctx, from(1), fmt.Sprint("f1-", runs), user, old[0])
				},
				Check: func() {
					if errRenew != nil || errUse != nil && !errors.Is(errUse, ErrWrongRecovery) {
						t.Fatalf("run %d: the renewal %v, the use %v", runs, errRenew, errUse)
					}
					if errUse == nil {
						passed++
					}
					raw, err := s.Store.Get(ctx, recoveryKey(realm, user))
					if err != nil {
						t.Fatal(err)
					}
					if left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, user); left != RecoveryCount || string(raw) != string(r.wrote) {
						lost[fmt.Sprintf("the new set was not whole (%d codes left)", left)]++
					}
					if s.Devices.UseRecoveryCode(ctx, from(2), fmt.Sprint("f2-", runs), user, old[1]) == nil {
						lost["an old code worked after the renewal"]++
					}
					if s.Devices.UseRecoveryCode(ctx, from(3), fmt.Sprint("f3-", runs), user, r.Codes[RecoveryCount-1]) != nil {
						lost["a new code did not work"]++
					}
				}}
		}
		n := interleaveThenRace(t, il, next, &held)
		t.Logf("%d interleavings and %d runs at once: the old code passed in %d", n, raceRuns, passed)
		if len(lost) > 0 {
			t.Errorf("in %d interleavings and %d runs at once: %v", n, raceRuns, lost)
		}
	})
}

// TestAnInviteAcceptedAtOnceWorksOnce: one invite link opened in two
// browsers (or fifty) at once is taken by one; and the user it lets in,
// sent two enrollment codes (two numbers, two tabs) and typing both at
// once, enrolls one phone.
func TestAnInviteAcceptedAtOnceWorksOnce(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, out, _ := raceService(t, il)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		twice, enrolledTwice, none := 0, 0, 0
		var held bool
		next := func() storetest.Pair {
			token, err := admin.NewInvite(ctx, realm, "ann", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			var errA, errB error
			return storetest.Pair{Key: inviteKey(realm, token),
				A: func(ctx context.Context) { _, errA = admin.TakeInvite(ctx, realm, token) },
				B: func(ctx context.Context) { _, errB = admin.TakeInvite(ctx, realm, token) },
				Check: func() {
					for _, err := range []error{errA, errB} {
						if err != nil && !errors.Is(err, ErrInvite) {
							t.Fatal(err)
						}
					}
					switch {
					case errA == nil && errB == nil:
						twice++
					case errA != nil && errB != nil:
						none++
					}
				}}
		}
		n := interleaveThenRace(t, il, next, &held)
		// Fifty browsers at once, ten times.
		for range 10 {
			token, err := admin.NewInvite(ctx, realm, "ann", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			var took atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 50 {
				wg.Go(func() {
					<-start
					if _, err := admin.TakeInvite(ctx, realm, token); err == nil {
						took.Add(1)
					} else if !errors.Is(err, ErrInvite) {
						t.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
			if got := took.Load(); got != 1 {
				t.Errorf("one invite taken by %d of 50 browsers at once", got)
			}
		}
		// Two enrollment codes of one user typed at once.
		runs := 0
		m := interleaveThenRace(t, il, func() storetest.Pair {
			runs++
			user := fmt.Sprint("ann", runs)
			var cs [2]*Challenge
			var codes [2]string
			var err error
			for i, e164 := range []string{"+14155550102", "+14155550103"} {
				if cs[i], err = s.Start(ctx, enrolled, Challenge{User: user, Phone: e164, Purpose: Enroll}); err != nil {
					t.Fatal(err)
				}
				codes[i] = sentCode(out)
			}
			var errA, errB error
			return storetest.Pair{Key: deviceKey(realm, user),
				A: func(ctx context.Context) { _, errA = s.Check(ctx, enrolled, cs[0], codes[0]) },
				B: func(ctx context.Context) { _, errB = s.Check(ctx, enrolled, cs[1], codes[1]) },
				Check: func() {
					list, err := s.Devices.List(ctx, realm, user)
					if err != nil {
						t.Fatal(err)
					}
					if len(list) != 1 || (errA == nil) == (errB == nil) {
						enrolledTwice++
						t.Logf("run %d: %d devices; %v, %v", runs, len(list), errA, errB)
					}
				}}
		}, &held)
		t.Logf("%d+%d interleavings and %d runs at once each, and 10 times 50 browsers at once", n, m, raceRuns)
		if twice > 0 || none > 0 || enrolledTwice > 0 {
			t.Errorf("in %d+%d interleavings and %d runs at once each: an invite taken twice %d times, by neither %d times; a user enrolled by two codes (or by neither) %d times",
				n, m, raceRuns, twice, none, enrolledTwice)
		}
	})
}

// TestAnAppCodeTypedAtOnceWorksOnce: one authenticator app's code typed at
// two gates at once (a phished code replayed as the user types it) signs
// in once: in every interleaving of their reads of the user's devices, 50
// times at once, and by 50 at once.
func TestAnAppCodeTypedAtOnceWorksOnce(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, clk := raceService(t, il)
		sealer, err := session.NewSealer(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "apps"))
		if err != nil {
			t.Fatal(err)
		}
		s.Secrets = sealer
		ctx := context.Background()
		runs := 0
		// ready gives a new user an app and answers its code of the next step.
		ready := func() (string, string) {
			runs++
			user := fmt.Sprint("u", runs)
			setup, err := s.Devices.StartApp(ctx, realm, user, "Example", "")
			if err != nil {
				t.Fatal(err)
			}
			code := func() string {
				c, err := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			if _, _, err := s.Devices.ConfirmApp(ctx, sc, user, code(), "app"); err != nil {
				t.Fatal(err)
			}
			clk.advance(appPeriod)
			return user, code()
		}
		from := func(i int) Scope { return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("203.0.113.%d", i)} }
		twice, none := 0, 0
		var held bool
		n := interleaveThenRace(t, il, func() storetest.Pair {
			user, code := ready()
			var errA, errB error
			return storetest.Pair{Key: deviceKey(realm, user),
				A: func(ctx context.Context) { _, errA = s.Devices.CheckApp(ctx, from(1), user, code) },
				B: func(ctx context.Context) { _, errB = s.Devices.CheckApp(ctx, from(2), user, code) },
				Check: func() {
					for _, err := range []error{errA, errB} {
						if err != nil && !errors.Is(err, ErrCodeUsed) {
							t.Fatalf("run %d: %v, %v", runs, errA, errB)
						}
					}
					switch {
					case errA == nil && errB == nil:
						twice++
					case errA != nil && errB != nil:
						none++
					}
				}}
		}, &held)
		for range 5 {
			user, code := ready()
			var passed atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 50 {
				wg.Go(func() {
					<-start
					if _, err := s.Devices.CheckApp(ctx, from(10+i), user, code); err == nil {
						passed.Add(1)
					} else if !errors.Is(err, ErrCodeUsed) {
						t.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
			if got := passed.Load(); got != 1 {
				t.Errorf("one app code typed at 50 gates at once passed %d times", got)
			}
		}
		t.Logf("%d interleavings and %d runs at once, and 5 times 50 gates at once", n, raceRuns)
		if twice > 0 || none > 0 {
			t.Errorf("in %d interleavings and %d runs at once: one app code passed twice %d times, never %d times", n, raceRuns, twice, none)
		}
	})
}

// TestAPhoneCodeTypedAtOnceWorksOnce: one texted code typed in two browsers
// (or at two gates) at once signs in once: in every interleaving of their
// reads of the challenge, 50 times at once, and by 50 at once.
func TestAPhoneCodeTypedAtOnceWorksOnce(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, out, _ := raceService(t, il)
		ctx := context.Background()
		runs := 0
		ready := func() (*Challenge, string) {
			runs++
			user := fmt.Sprint("u", runs)
			putDevices(t, s.Devices, user, Device{ID: "a", Phone: num, Enrolled: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)})
			c, err := s.Start(ctx, enrolled, Challenge{User: user, Phone: num, Purpose: Verify, DeviceID: "a"})
			if err != nil {
				t.Fatal(err)
			}
			return c, sentCode(out)
		}
		from := func(i int) Scope { return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("203.0.113.%d", i)} }
		twice, none := 0, 0
		var held bool
		n := interleaveThenRace(t, il, func() storetest.Pair {
			c, code := ready()
			var errA, errB error
			return storetest.Pair{Key: challengeKey(realm, c.ID),
				A: func(ctx context.Context) { _, errA = s.Check(ctx, from(1), c, code) },
				B: func(ctx context.Context) { _, errB = s.Check(ctx, from(2), c, code) },
				Check: func() {
					for _, err := range []error{errA, errB} {
						if err != nil && !errors.Is(err, ErrNoChallenge) {
							t.Fatalf("run %d: %v, %v", runs, errA, errB)
						}
					}
					switch {
					case errA == nil && errB == nil:
						twice++
					case errA != nil && errB != nil:
						none++
					}
				}}
		}, &held)
		for range 5 {
			c, code := ready()
			var passed atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 50 {
				wg.Go(func() {
					<-start
					if _, err := s.Check(ctx, from(10+i), c, code); err == nil {
						passed.Add(1)
					} else if !errors.Is(err, ErrNoChallenge) && !errors.As(err, new(*WrongCodeError)) && !errors.Is(err, ErrTooMany) {
						t.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
			// (Past its MaxAttempts tries at once the code is dropped: the
			// one that was right may come too late. At most once, then.)
			if got := passed.Load(); got > 1 {
				t.Errorf("one texted code typed at 50 gates at once passed %d times", got)
			}
		}
		t.Logf("%d interleavings and %d runs at once, and 5 times 50 gates at once", n, raceRuns)
		if twice > 0 || none > 0 {
			t.Errorf("in %d interleavings and %d runs at once: one texted code passed twice %d times, never %d times", n, raceRuns, twice, none)
		}
	})
}
