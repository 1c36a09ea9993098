package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARefusedAddSaysNothingAdded: an add from a session whose device
// left her list is refused in the list's update (stampAdded), and AddIn
// answers it with added false, as every error: a caller that reads added
// first acts on no refusal. Before, added read true beside ErrEnded. On
// Badger and Redis.
func TestARefusedAddSaysNothingAdded(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := newServiceOn(t, st)
		if _, _, err := s.Devices.AddIn(ctx, realm, alice, num, "Kept", ""); err != nil {
			t.Fatal(err)
		}
		id, added, err := s.Devices.AddIn(AddedFrom(ctx, "gone"), realm, alice, "+447400123456", "New", "")
		if !errors.Is(err, ErrEnded) || added || id != "" {
			t.Errorf("a phone added from a session of a device gone from her list: %q, added %v (%v); want refused, ErrEnded, not added", id, added, err)
		}
		if list, err := s.Devices.List(ctx, realm, alice); err != nil || len(list) != 1 {
			t.Errorf("her devices after the refusal: %d (%v); want the one kept", len(list), err)
		}
	})
}

// TestARefusedAppAddTakesItsCodeAgain: an app whose first right code
// was refused — her list full, or the session it was added from naming a
// device gone from her list (stampAdded) — is added with the same code
// once the refusal is mended (room made, a session of her own). The
// confirmation marks its code's step used for the app it would add, under
// an ID of its own (useStep), so a refused one's mark names no app and
// stops no later confirmation, while the code that added an app signs
// nobody in. On Badger and Redis.
func TestARefusedAppAddTakesItsCodeAgain(t *testing.T) {
	t.Parallel()
	for _, refusal := range []string{"full", "ended"} {
		t.Run(refusal, func(t *testing.T) {
			t.Parallel()
			storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
				ctx := context.Background()
				s, _, clk := appServiceOn(t, st)
				n := MaxDevices
				if refusal == "ended" {
					n = 1
				}
				var first string
				for i := range n {
					id, _, err := s.Devices.AddIn(ctx, realm, alice, fmt.Sprintf("+1415555%04d", 1000+i), "", "")
					if err != nil {
						t.Fatal(err)
					}
					first = id
				}
				setup, err := s.Devices.StartApp(ctx, realm, alice, "Example", "")
				if err != nil {
					t.Fatal(err)
				}
				code, err := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
				if err != nil {
					t.Fatal(err)
				}
				from, want := ctx, error(ErrMaxDevices)
				if refusal == "ended" {
					from, want = AddedFrom(ctx, "gone"), ErrEnded
				}
				if id, added, err := s.Devices.ConfirmApp(from, sc, alice, code, "App"); !errors.Is(err, want) || added || id != "" {
					t.Fatalf("the app refused: %q, added %v (%v); want %v, not added", id, added, err, want)
				}
				if refusal == "full" {
					if _, err := s.Devices.Remove(ctx, realm, alice, first, false); err != nil {
						t.Fatal(err)
					}
				}
				id, added, err := s.Devices.ConfirmApp(ctx, sc, alice, code, "App")
				if err != nil || !added {
					t.Fatalf("the same right code once the refusal was mended: %q, added %v (%v); want added", id, added, err)
				}
				if _, err := s.Devices.CheckApp(ctx, sc, alice, code); !errors.Is(err, ErrCodeUsed) {
					t.Errorf("the code that added the app, at a sign-in: %v; want ErrCodeUsed", err)
				}
			})
		})
	}
}
