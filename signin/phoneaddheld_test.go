package signin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

// heldAfterUpdate holds a caller whose context it marked (heldUpdateKey)
// right after its first Update of key returns, until released.
type heldAfterUpdate struct {
	store.Store
	key              string
	once             sync.Once
	reached, release chan struct{}
}

type heldUpdateKey struct{}

func (h *heldAfterUpdate) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	err := h.Store.Update(ctx, key, change)
	if key == h.key && ctx.Value(heldUpdateKey{}) == h {
		h.once.Do(func() { close(h.reached); <-h.release })
	}
	return err
}

// TestTheLosingPhoneAddAnswersForItsOwnSession: carol adds one new number
// in two tabs (two codes to it, two sessions). The first check adds the
// phone, its session live. The second, which finds the phone added, is
// held right after its write of her device list, before it asks whether
// its own session is live; its session ends (a sign-out there), and it
// goes on: it is refused (keptAdding answers for the session of a check
// that added nothing, as for an app's: TestTwoAppConfirmsAtOnceNotifyOnce),
// and undoes nothing (the phone stays, told of once). On Badger and on a
// real Redis. TestTwoPhoneAddsAtOnceNotifyOnce ends the session only once
// a check has returned, so never at this point.
func TestTheLosingPhoneAddAnswersForItsOwnSession(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			const user, realm, added = "carol", "example.com", "+447400123456"
			h := &heldAfterUpdate{Store: st, key: store.Key("device", realm, user), reached: make(chan struct{}), release: make(chan struct{})}
			s, sent, notices := phoneAdding(t, h)
			scope := func(ip int) enrollment.Scope {
				return enrollment.Scope{Realm: realm, Host: "example.com", IP: fmt.Sprintf("192.0.2.%d", ip), Known: true}
			}
			send := func(ip int) (*Flow, *enrollment.Challenge, string) {
				f := &Flow{ID: enrollment.RandomID(), User: user}
				c, err := s.AddPhone(context.Background(), scope(ip), f, user, added, "", "Work")
				if err != nil {
					t.Fatal(err)
				}
				return f, c, sent.take()
			}
			fA, cA, codeA := send(1)
			fB, cB, codeB := send(2)
			notices.take()
			live := func(context.Context) (bool, error) { return true, nil }
			if _, err := s.Check(context.Background(), scope(1), fA, user, cA, codeA, live); err != nil {
				t.Fatalf("the first check: %v", err)
			}
			var ended atomic.Bool // the second tab's session
			liveB := func(context.Context) (bool, error) { return !ended.Load(), nil }
			checked := make(chan error, 1)
			go func() {
				_, err := s.Check(context.WithValue(context.Background(), heldUpdateKey{}, h), scope(2), fB, user, cB, codeB, liveB)
				checked <- err
			}()
			select {
			case <-h.reached:
			case err := <-checked:
				t.Fatalf("the second check wrote no device list: %v", err)
			}
			ended.Store(true)
			close(h.release)
			if err := <-checked; !errors.Is(err, enrollment.ErrNoChallenge) {
				t.Errorf("the second check, its session ended after its write: %v; want refused (%v)", err, enrollment.ErrNoChallenge)
			}
			list, err := s.Devices.List(context.Background(), realm, user)
			if err != nil {
				t.Fatal(err)
			}
			if n := notices.take(); len(list) != 1 || n != 1 {
				t.Errorf("%d phones, %d notices; want 1 and 1", len(list), n)
			}
		})
	}
}
