package enrollment

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
)

// heldPut holds a caller whose context it marked (heldWriteKey) right
// after its first PutIfAbsent of a key with prefix, until released.
type heldPut struct {
	store.Store
	prefix           string
	once             sync.Once
	reached, release chan struct{}
}

func (h *heldPut) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	wrote, err := h.Store.PutIfAbsent(ctx, key, value, ttl)
	if strings.HasPrefix(key, h.prefix) && ctx.Value(heldWriteKey{}) == h {
		h.once.Do(func() { close(h.reached); <-h.release })
	}
	return wrote, err
}

// TestAnAppRemovedDuringItsCheckSignsNobodyIn: an app's right code,
// checked with the app found in the list and its step written (useStep),
// held there while the admin removes the app: the check answers a wrong
// code, no device (its mark of the app used finds it gone: Devices.used).
// caddymodule's TestAnAppRemovedDuringItsSignInSignsNobodyIn passes
// without that refusal: the sign-in's read of the app once its session is
// listed (signin.Service.Holds) withdraws the session all the same, and a
// removal after that read came after the sign-in; this one fails without
// it. On Badger and Redis.
func TestAnAppRemovedDuringItsCheckSignsNobodyIn(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		h := &heldPut{Store: st, prefix: "app-used/", reached: make(chan struct{}), release: make(chan struct{})}
		s, _, clk := appServiceOn(t, h)
		setup, err := s.Devices.StartApp(ctx, realm, "alice", "Example", "")
		if err != nil {
			t.Fatal(err)
		}
		right, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		id, added, err := s.Devices.ConfirmApp(ctx, sc, "alice", right, "")
		if err != nil || !added {
			t.Fatalf("the app's confirmation: %v, %v", added, err)
		}
		clk.advance(30 * time.Second) // the confirming code's step is used
		code, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		type checked struct {
			d   *Device
			err error
		}
		done := make(chan checked)
		go func() {
			d, err := s.Devices.CheckApp(context.WithValue(ctx, heldWriteKey{}, h), sc, "alice", code)
			done <- checked{d, err}
		}()
		<-h.reached
		if _, err := s.Devices.Remove(ctx, realm, "alice", id, true); err != nil {
			t.Fatal(err)
		}
		close(h.release)
		if r := <-done; r.d != nil || !errors.As(r.err, new(*WrongCodeError)) {
			got := ""
			if r.d != nil {
				got = r.d.ID // never the device whole: its sealed secret
			}
			t.Errorf("a code of an app removed during its check: device %q, %v; want a wrong code, no device", got, r.err)
		}
	})
}
