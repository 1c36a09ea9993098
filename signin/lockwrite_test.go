package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// addressLockFault is a store that fails every write of one address's
// lock of a user (enrollment's lock/<realm>/<user>/<address>).
type addressLockFault struct {
	store.Store
	key string
}

func (f *addressLockFault) Update(ctx context.Context, k string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if k == f.key {
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return f.Store.Update(ctx, k, change)
}

// TestAnAccountLockIsToldWhenTheAddresssFails: with lockout_after 3 and
// max_failures 3, alice's third wrong code begins both locks; the store
// writes the account's and fails the address's. She is answered locked,
// her phone is told of the account's lock, and the failure is logged
// (lock_unwritten, an error) without her number. On Badger. Before, the
// store's error was answered (a 503) and nobody was told.
func TestAnAccountLockIsToldWhenTheAddresssFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const user, number = "alice", "+14155550123"
	b := newResetBench(t, &addressLockFault{Store: storetest.Badger(t), key: store.Key("lock", "r", user, resetScope.IP)}, time.Now)
	core, logs := observer.New(zap.InfoLevel)
	notices := new(counted)
	b.s.Logger, b.s.Notices, b.s.Later = zap.New(core), notices, func(work func()) { work() }
	b.dev.Limits.LockAfter, b.dev.Limits.Lockout, b.dev.Limits.MaxFailures = 3, time.Hour, 3
	if _, _, err := b.dev.AddIn(ctx, "r", user, number, "Phone", ""); err != nil {
		t.Fatal(err)
	}
	c, err := b.ch.Start(ctx, resetScope, enrollment.Challenge{User: user, Phone: number, Purpose: enrollment.Verify})
	if err != nil {
		t.Fatal(err)
	}
	b.out.mu.Lock()
	wrong := "0" + b.out.code[1:]
	if wrong == b.out.code {
		wrong = "1" + b.out.code[1:]
	}
	b.out.mu.Unlock()
	for i := range 3 {
		_, err = b.s.Check(ctx, resetScope, &Flow{ID: "f"}, user, c, wrong, nil)
		if i < 2 && !errors.As(err, new(*enrollment.WrongCodeError)) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	var locked *enrollment.LockedError
	if !errors.As(err, &locked) || !locked.Account || !locked.Started {
		t.Fatalf("the third wrong code: %v; want the account's lock begun", err)
	}
	if n := notices.take(); n != 1 {
		t.Errorf("%d notices of the lock; want 1", n)
	}
	logged := logs.FilterMessage("lock_unwritten").All()
	if len(logged) != 1 || logged[0].Level != zap.ErrorLevel || logged[0].ContextMap()["user"] != user {
		t.Errorf("logged %+v; want one error lock_unwritten for alice", logged)
	}
	for _, e := range logs.All() {
		if text := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(text, number[1:]) {
			t.Errorf("the log holds her number: %s", text)
		}
	}
}
