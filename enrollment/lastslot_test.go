package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestTwoAddsIntoTheLastSlot (attack17): a user one device short of
// MaxDevices adds two at once — two passkeys, a passkey and an app, a
// passkey and a phone, an app and a phone, two phones (two tabs, or her
// and the admin's add) — on Badger and on a real Redis, in every
// interleaving of their reads of her device list and raceRuns times at
// once. One is added, the other refused (ErrMaxDevices), and her list
// holds MaxDevices: each add checks the limit in the atomic update that
// writes the list. (Checked on a read before that update, the held add
// wrote an eleventh device in every interleaving that held it after the
// read.)
func TestTwoAddsIntoTheLastSlot(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	pairs := [][2]string{{"passkey", "passkey"}, {"passkey", "app"}, {"passkey", "phone"}, {"app", "phone"}, {"phone", "phone"}}
	on := raceStores(t)
	for _, pair := range pairs {
		on(pair[0]+"-"+pair[1]+"/", func(t *testing.T, st store.Store) {
			il := &storetest.Interleaver{Store: st}
			s, _, clk := appServiceOn(t, il)
			s.Limits = Limits{}
			withPasskeys(t, s)
			ctx := context.Background()
			// adding readies one add of kind for user, the i-th of the pair.
			adding := func(kind, user string, i int) func(ctx context.Context) error {
				switch kind {
				case "passkey":
					flow := fmt.Sprint("add-", user, "-", i)
					parsed := passkeyMade(t, s, fakes.NewAuthenticator("example.com", "https://example.com"), user, flow)
					return func(ctx context.Context) error {
						_, err := s.Devices.FinishPasskey(ctx, realm, user, flow, "en", parsed)
						return err
					}
				case "app":
					setup, err := s.Devices.StartApp(ctx, realm, user, "Example", "")
					if err != nil {
						t.Fatal(err)
					}
					code, err := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
					if err != nil {
						t.Fatal(err)
					}
					sc := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", i+1)}
					return func(ctx context.Context) error {
						_, _, err := s.Devices.ConfirmApp(ctx, sc, user, code, "")
						return err
					}
				default:
					return func(ctx context.Context) error {
						_, _, err := s.Devices.AddIn(ctx, realm, user, fmt.Sprintf("+4474001234%02d", i), "", "en")
						return err
					}
				}
			}
			runs, over := 0, 0
			var held bool
			interleavings := interleaveThenRace(t, il, func() storetest.Pair {
				runs++
				user := fmt.Sprint("full-", held, "-", runs)
				nine := make([]Device, MaxDevices-1)
				for i := range nine {
					nine[i] = Device{ID: fmt.Sprint("p", i), Phone: fmt.Sprintf("+1415555%04d", 100+i), Enrolled: earlier}
				}
				putDevices(t, s.Devices, user, nine...)
				a, b := adding(pair[0], user, 0), adding(pair[1], user, 1)
				var errA, errB error
				return storetest.Pair{Key: deviceKey(realm, user),
					A: func(ctx context.Context) { errA = a(ctx) },
					B: func(ctx context.Context) { errB = b(ctx) },
					Check: func() {
						refusedA, refusedB := errors.Is(errA, ErrMaxDevices), errors.Is(errB, ErrMaxDevices)
						if (errA != nil && !refusedA) || (errB != nil && !refusedB) {
							t.Fatalf("%s: %s %v, %s %v", user, pair[0], errA, pair[1], errB)
						}
						list, err := s.Devices.List(ctx, realm, user)
						if err != nil {
							t.Fatal(err)
						}
						if refusedA == refusedB || len(list) != MaxDevices {
							over++
							t.Errorf("%s: %s refused %v, %s refused %v; %d devices, want one added and %d", user, pair[0], refusedA, pair[1], refusedB, len(list), MaxDevices)
						}
					}}
			}, &held)
			t.Logf("%d interleavings, %d at once: %d over the limit or both refused", interleavings, raceRuns, over)
		})
	}
}
