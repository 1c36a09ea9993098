package enrollment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// More pairs of an admin and a user (or two browsers) at once, each on
// Badger and on a real Redis, in every interleaving of their reads of the
// record they share and raceRuns times at once (interleaveThenRace): the
// admin's removal of a device while the user renames it, signs in with it
// (a texted code, a passkey) or adds a passkey; one recovery code typed in
// two browsers at once; a right and a wrong code at once under
// MaxFailures.

// TestAnAdminsRemovalWhileTheUserUsesTheDevice: the admin removes phone A
// (remove-device, allowed the last) while the user renames it, or signs in
// with a code sent to it. The removed phone never comes back and the other
// phone is untouched; the user's change either came first (the removed
// phone shows it: renamed, used) or is refused (ErrNoDevice,
// ErrNoChallenge: the code is no longer A's). Before the check of that
// (a code's sign-in let in after the removal), the found device's ID
// kept from a try the removal's write undid (Devices.used, 694f84f) let
// a code to the removed phone sign in, and the test passed.
func TestAnAdminsRemovalWhileTheUserUsesTheDevice(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	phoneA := Device{ID: "a", Name: "A", Phone: num, Enrolled: earlier}
	phoneB := Device{ID: "b", Name: "B", Phone: "+14155550100", Enrolled: earlier, LastUsed: earlier}
	races := []struct {
		name string
		use  func(ctx context.Context, s *Challenges, user string) error
		// refused is the answer the user's change may get once the removal
		// came first.
		refused error
		// came reports whether the removed device (as the removal
		// answers it) shows the user's change: one let in came first.
		came func(removed *Device) bool
	}{{
		name: "Rename",
		use: func(ctx context.Context, s *Challenges, user string) error {
			return s.Devices.Rename(ctx, realm, user, "a", "renamed")
		},
		refused: ErrNoDevice,
		came:    func(d *Device) bool { return d.Name == "renamed" },
	}, {
		name: "SignInWithIt",
		use: func(ctx context.Context, s *Challenges, user string) error {
			out := s.Sender.(*outbox)
			c, err := s.Start(ctx, enrolled, Challenge{User: user, Phone: phoneA.Phone, Purpose: Verify, DeviceID: "a"})
			if err != nil {
				return err
			}
			out.mu.Lock()
			code := out.sent[len(out.sent)-1].Code
			out.mu.Unlock()
			_, err = s.Check(ctx, enrolled, c, code)
			return err
		},
		refused: ErrNoChallenge,
		came:    func(d *Device) bool { return !d.LastUsed.IsZero() },
	}}
	on := raceStores(t)
	for _, r := range races {
		on(r.name+"/", func(t *testing.T, st store.Store) {
			il := &storetest.Interleaver{Store: st}
			s, _, _ := raceService(t, il)
			lost := map[string]int{}
			runs, refused := 0, 0
			var held bool
			interleavings := interleaveThenRace(t, il, func() storetest.Pair {
				runs++
				user := fmt.Sprint(r.name, "-", held, "-", runs)
				putDevices(t, s.Devices, user, phoneA, phoneB)
				var errRemove, errUse error
				var removed *Device
				return storetest.Pair{Key: deviceKey(realm, user),
					A: func(ctx context.Context) { removed, errRemove = s.Devices.Remove(ctx, realm, user, "a", true) },
					B: func(ctx context.Context) { errUse = r.use(ctx, s, user) },
					Check: func() {
						let := errUse == nil
						if errors.Is(errUse, r.refused) {
							refused++
							errUse = nil
						}
						if errRemove != nil || errUse != nil {
							t.Fatalf("%s: removal %v, the user's %v", user, errRemove, errUse)
						}
						if let && (removed == nil || !r.came(removed)) {
							lost["the user's change let in after the removal"]++
						}
						list, err := s.Devices.List(context.Background(), realm, user)
						if err != nil {
							t.Fatal(err)
						}
						switch b := byID(list, "b"); {
						case byID(list, "a") != nil:
							lost["the removed phone came back"]++
						case len(list) != 1 || b == nil || b.Name != "B" || !b.LastUsed.Equal(earlier):
							lost["the other phone changed"]++
						}
					}}
			}, &held)
			t.Logf("%d interleavings, %d at once: %d of the user's changes refused (the removal first), lost %v", interleavings, raceRuns, refused, lost)
			if len(lost) > 0 {
				t.Errorf("in %d interleavings and %d runs at once: %v", interleavings, raceRuns, lost)
			}
		})
	}
}

// withPasskeys lets s add passkeys of example.com and sign in with them.
func withPasskeys(t *testing.T, s *Challenges) {
	t.Helper()
	var err error
	s.WebAuthn, err = webauthn.New(&webauthn.Config{RPID: "example.com", RPDisplayName: "Example", RPOrigins: []string{"https://example.com"}})
	if err != nil {
		t.Fatal(err)
	}
}

// passkeyMade is key's answer to the passkey registration s begins for
// user as flow: what FinishPasskey takes.
func passkeyMade(t *testing.T, s *Challenges, key *fakes.Authenticator, user, flow string) *protocol.ParsedCredentialCreationData {
	t.Helper()
	begin, err := s.Devices.BeginPasskey(context.Background(), realm, user, flow)
	if err != nil {
		t.Fatal(err)
	}
	created, err := key.Create(mustJSON(t, begin))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(created)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

// passkeyRaces is a service on st with passkeys, and a way to give a user
// a passkey (its ID) and to answer a sign-in with it.
func passkeyRaces(t *testing.T, st store.Store) (s *Challenges, register func(user string) string, answer func(user, flow string) *protocol.ParsedCredentialAssertionData) {
	t.Helper()
	ctx := context.Background()
	s, _, _ = raceService(t, st)
	withPasskeys(t, s)
	keys := map[string]*fakes.Authenticator{}
	register = func(user string) string {
		key := fakes.NewAuthenticator("example.com", "https://example.com")
		keys[user] = key
		parsed := passkeyMade(t, s, key, user, "register-"+user)
		id, err := s.Devices.FinishPasskey(ctx, realm, user, "register-"+user, "en", parsed)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	answer = func(user, flow string) *protocol.ParsedCredentialAssertionData {
		opts, err := s.Devices.BeginPasskeyLogin(ctx, realm, user, flow)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := keys[user].Get(mustJSON(t, opts))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		return parsed
	}
	return s, register, answer
}

// TestAnAdminsRemovalWhileTheUserSignsInWithAPasskey: the admin removes a
// user's passkey while the user signs in with it (its sign counter kept in
// the device list), and removes a phone while the user adds a passkey. The
// removed device never comes back; a sign-in either came first (the
// removed passkey holds the sign count it kept) or is refused
// (ErrPasskey); the passkey added is kept.
func TestAnAdminsRemovalWhileTheUserSignsInWithAPasskey(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	phone := Device{ID: "p", Name: "P", Phone: num, Enrolled: earlier}
	on := raceStores(t)
	on("SignIn/", func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, register, answer := passkeyRaces(t, il)
		lost := map[string]int{}
		runs, refused := 0, 0
		var held bool
		interleavings := interleaveThenRace(t, il, func() storetest.Pair {
			runs++
			user := fmt.Sprint("signin-", held, "-", runs)
			putDevices(t, s.Devices, user, phone)
			id := register(user)
			a := answer(user, "flow-"+user)
			list, err := s.Devices.List(context.Background(), realm, user)
			if err != nil || byID(list, id) == nil {
				t.Fatal(list, err)
			}
			was := byID(list, id).Credential
			var errRemove, errIn error
			var removed *Device
			return storetest.Pair{Key: deviceKey(realm, user),
				A: func(ctx context.Context) { removed, errRemove = s.Devices.Remove(ctx, realm, user, id, true) },
				B: func(ctx context.Context) {
					_, _, errIn = s.Devices.FinishPasskeyLogin(ctx, enrolled, user, "flow-"+user, a)
				},
				Check: func() {
					// Let in, it came first: the removed passkey holds its sign count.
					if errIn == nil && (removed == nil || bytes.Equal(removed.Credential, was)) {
						lost["a sign-in let in after the removal"]++
					}
					if errors.Is(errIn, ErrPasskey) {
						refused++
						errIn = nil
					}
					if errRemove != nil || errIn != nil {
						t.Fatalf("%s: removal %v, sign-in %v", user, errRemove, errIn)
					}
					list, err := s.Devices.List(context.Background(), realm, user)
					if err != nil {
						t.Fatal(err)
					}
					if byID(list, id) != nil {
						lost["the removed passkey came back"]++
					} else if len(list) != 1 || list[0].ID != "p" {
						lost["the phone changed"]++
					}
				}}
		}, &held)
		t.Logf("%d interleavings, %d at once: %d sign-ins refused (the removal first), lost %v", interleavings, raceRuns, refused, lost)
		if len(lost) > 0 {
			t.Errorf("in %d interleavings and %d runs at once: %v", interleavings, raceRuns, lost)
		}
	})
	on("Add/", func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, register, _ := passkeyRaces(t, il)
		ctx := context.Background()
		keys := map[string]*fakes.Authenticator{}
		lost := map[string]int{}
		runs := 0
		var held bool
		interleavings := interleaveThenRace(t, il, func() storetest.Pair {
			runs++
			user := fmt.Sprint("add-", held, "-", runs)
			putDevices(t, s.Devices, user, phone, Device{ID: "q", Name: "Q", Phone: "+14155550100", Enrolled: earlier})
			register(user) // the user holds one passkey: the new one is a second
			parsed := passkeyMade(t, s, newKey(keys, user), user, "add-"+user)
			var errRemove, errAdd error
			var added string
			return storetest.Pair{Key: deviceKey(realm, user),
				A: func(ctx context.Context) { _, errRemove = s.Devices.Remove(ctx, realm, user, "q", true) },
				B: func(ctx context.Context) {
					added, errAdd = s.Devices.FinishPasskey(ctx, realm, user, "add-"+user, "en", parsed)
				},
				Check: func() {
					if errRemove != nil || errAdd != nil {
						t.Fatalf("%s: removal %v, passkey added %v", user, errRemove, errAdd)
					}
					list, err := s.Devices.List(ctx, realm, user)
					if err != nil {
						t.Fatal(err)
					}
					switch {
					case byID(list, "q") != nil:
						lost["the removed phone came back"]++
					case byID(list, added) == nil:
						lost["the passkey added was lost"]++
					case len(list) != 3:
						lost[fmt.Sprintf("%d devices, not 3", len(list))]++
					}
				}}
		}, &held)
		t.Logf("%d interleavings, %d at once: lost %v", interleavings, raceRuns, lost)
		if len(lost) > 0 {
			t.Errorf("in %d interleavings and %d runs at once: %v", interleavings, raceRuns, lost)
		}
	})
}

// newKey is a new authenticator of user's, kept in keys.
func newKey(keys map[string]*fakes.Authenticator, user string) *fakes.Authenticator {
	key := fakes.NewAuthenticator("example.com", "https://example.com")
	keys[user] = key
	return key
}

// TestOneRecoveryCodeTypedInTwoBrowsersAtOnce: one recovery code typed at
// once in two browsers (two sign-ins, two IPs) signs in once; the other is
// told the code is wrong, and every other code still works.
func TestOneRecoveryCodeTypedInTwoBrowsersAtOnce(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		il := &storetest.Interleaver{Store: st}
		s, _, _ := raceService(t, il)
		ctx := context.Background()
		lost := map[string]int{}
		runs := 0
		var held bool
		interleavings := interleaveThenRace(t, il, func() storetest.Pair {
			runs++
			user := fmt.Sprint("rc-", held, "-", runs)
			codes, err := s.Devices.NewRecoveryCodes(ctx, realm, user)
			if err != nil {
				t.Fatal(err)
			}
			var errA, errB error
			use := func(ctx context.Context, browser int) error {
				// Each run from IPs of its own: an IP may try RecoveryTriesPerIP.
				from := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("10.%d.%d.%d", browser, runs/200, runs%200)}
				return s.Devices.UseRecoveryCode(ctx, from, fmt.Sprint(user, "-flow", browser), user, codes[0])
			}
			return storetest.Pair{Key: recoveryKey(realm, user),
				A: func(ctx context.Context) { errA = use(ctx, 1) },
				B: func(ctx context.Context) { errB = use(ctx, 2) },
				Check: func() {
					for _, err := range []error{errA, errB} {
						if err != nil && !errors.Is(err, ErrWrongRecovery) {
							t.Fatalf("%s: %v, %v", user, errA, errB)
						}
					}
					switch left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, user); {
					case errA == nil && errB == nil:
						lost["one code signed in twice"]++
					case errA != nil && errB != nil:
						lost["a right code signed nobody in"]++
					case left != RecoveryCount-1:
						lost[fmt.Sprintf("%d codes left, not %d", left, RecoveryCount-1)]++
					}
				}}
		}, &held)
		t.Logf("%d interleavings, %d at once: lost %v", interleavings, raceRuns, lost)
		if len(lost) > 0 {
			t.Errorf("in %d interleavings and %d runs at once: %v", interleavings, raceRuns, lost)
		}
	})
}

// failCounter counts, for each user, the app codes compared and found
// wrong (each an Incr of the account's count of wrong codes).
type failCounter struct {
	store.Store
	wrong map[string]*atomic.Int64
}

func (f *failCounter) Incr(ctx context.Context, k string, ttl time.Duration) (int64, error) {
	if n, ok := f.wrong[k]; ok {
		n.Add(1)
	}
	return f.Store.Incr(ctx, k, ttl)
}

// TestARightAndAWrongCodeAtOnceUnderMaxFailures: alice has typed
// MaxFailures-1 (2) wrong app codes when she types the right one while a
// stranger types a wrong one. At most MaxFailures codes are compared and
// found wrong; the right code signs her in (and empties the window: the
// stranger's wrong code after it is the first of a new row) unless the
// stranger's wrong code took the last slot first (then MaxFailures are
// wrong, and she is locked, as she would be one after the other).
func TestARightAndAWrongCodeAtOnceUnderMaxFailures(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		fc := &failCounter{wrong: map[string]*atomic.Int64{}}
		il := &storetest.Interleaver{Store: fc}
		fc.Store = st
		s, _, clk := appServiceOn(t, il)
		s.Limits.LockAfter = 1000
		s.Limits.MaxFailures = 3
		ctx := context.Background()
		owner := Scope{Realm: realm, Host: host, IP: "192.0.2.10"}
		stranger := Scope{Realm: realm, Host: host, IP: "203.0.113.9"}
		figures := map[string]int{}
		runs := 0
		var held bool
		interleavings := interleaveThenRace(t, il, func() storetest.Pair {
			runs++
			user := fmt.Sprint("mf-", held, "-", runs)
			fc.wrong[failUserKey(Scope{Realm: realm}, user)] = &atomic.Int64{}
			setup, err := s.Devices.StartApp(ctx, realm, user, "Example", "")
			if err != nil {
				t.Fatal(err)
			}
			confirm, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
			if _, _, err := s.Devices.ConfirmApp(ctx, owner, user, confirm, ""); err != nil {
				t.Fatal(err)
			}
			clk.advance(time.Minute) // the step the app was confirmed with is used
			right, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
			for range 2 {
				if _, err := s.Devices.CheckApp(ctx, stranger, user, wrongOf(right)); !errors.As(err, new(*WrongCodeError)) {
					t.Fatalf("%s: a wrong code before the race: %v", user, err)
				}
			}
			var errRight, errWrong error
			return storetest.Pair{Key: deviceKey(realm, user),
				A: func(ctx context.Context) { _, errRight = s.Devices.CheckApp(ctx, owner, user, right) },
				B: func(ctx context.Context) { _, errWrong = s.Devices.CheckApp(ctx, stranger, user, wrongOf(right)) },
				Check: func() {
					wrong := fc.wrong[failUserKey(Scope{Realm: realm}, user)].Load()
					if wrong > 3 {
						figures["more than MaxFailures compared wrong"]++
					}
					// Each outcome is one of the two orders': the right code
					// first (she is in, the window emptied: the wrong one
					// is the first of a new row, or, refused while hers was
					// compared, locks as it would have), or the wrong one
					// first (MaxFailures wrong: she is locked).
					switch {
					case errRight == nil:
						figures["signed in"]++
						clk.advance(appPeriod)
						next, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
						locked := "not locked"
						if _, err := s.Devices.CheckApp(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.11"}, user, next); errors.As(err, new(*LockedError)) {
							locked = "locked"
						}
						figures[fmt.Sprintf("signed in, her next code %s (%d wrong compared)", locked, wrong)]++
					case errors.As(errRight, new(*LockedError)):
						// 2: the wrong code, its slot taken before hers, read
						// the lock her refusal wrote, and was refused
						// unchecked (one guess fewer than its order's).
						figures[fmt.Sprintf("right code refused, locked (%d wrong compared)", wrong)]++
					default:
						t.Fatalf("%s: the right code: %v", user, errRight)
					}
					var l *LockedError
					if errWrong != nil && !errors.As(errWrong, new(*WrongCodeError)) && !errors.As(errWrong, &l) {
						t.Fatalf("%s: the wrong code: %v", user, errWrong)
					}
				}}
		}, &held)
		t.Logf("%d interleavings, %d at once: %v", interleavings, raceRuns, figures)
		if figures["more than MaxFailures compared wrong"] > 0 {
			t.Errorf("in %d interleavings and %d runs at once: %v", interleavings, raceRuns, figures)
		}
	})
}
