package enrollment

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAcknowledgedWritesAreLasting: an enrollment, a device change, a used
// recovery code and a reset are durable before the user hears of them; a
// sign-in with an enrolled phone costs no sync at all.
func TestAcknowledgedWritesAreLasting(t *testing.T) {
	s, out, clk := newService(t)
	log := &storetest.LastingLog{Store: s.Store}
	s.Store = log
	ctx := context.Background()
	step := func(what string, want string, op func()) {
		t.Helper()
		log.Writes()
		op()
		if got := log.Writes(); got != want {
			t.Fatalf("%s: lasting writes %q, want %q", what, got, want)
		}
	}
	check := func(p string) {
		c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: p})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(ctx, sc, c, out.last(t).Code); err != nil {
			t.Fatal(err)
		}
	}
	step("an enrollment", "put device", func() { check(Enroll) })
	var codes []string
	step("recovery codes", "put recovery", func() { codes, _ = s.Devices.NewRecoveryCodes(ctx, realm, alice) })
	clk.advance(time.Minute)
	step("a sign-in", "", func() { check(Verify) })
	step("a second phone", "put device", func() {
		if _, err := s.Devices.Add(ctx, realm, alice, "+447911123456", "work"); err != nil {
			t.Fatal(err)
		}
	})
	step("a recovery code used", "put recovery", func() {
		if err := s.Devices.UseRecoveryCode(ctx, sc, "flow", alice, codes[0]); err != nil {
			t.Fatal(err)
		}
	})
	step("a reset", "delete device, delete recovery", func() {
		if err := s.Devices.ResetUser(ctx, realm, alice); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRecoveryCodeUseLosesNothing: of two uses of one code at once, one
// succeeds; a use cut short (a crash while it holds the lock) loses no
// code: the others wait a moment and the codes are all still there.
func TestRecoveryCodeUseLosesNothing(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	codes, err := s.Devices.NewRecoveryCodes(ctx, realm, alice)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := 0; i < cap(errs); i++ {
		go func() { errs <- s.Devices.UseRecoveryCode(ctx, sc, "flow"+strconv.Itoa(i), alice, codes[0]) }()
	}
	won := 0
	for i := 0; i < cap(errs); i++ {
		err := <-errs
		var limit *LimitError
		switch {
		case err == nil:
			won++
		case errors.Is(err, ErrWrongRecovery), errors.As(err, &limit):
		default:
			t.Fatalf("a concurrent use: %v", err)
		}
	}
	if left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, alice); won != 1 || left != len(codes)-1 {
		t.Fatalf("%d uses of one code succeeded, %d codes left of %d", won, left, len(codes))
	}

	// A use that crashed holding the lock.
	if _, err := s.Store.PutIfAbsent(ctx, store.Key("recovery-lock", realm, alice), []byte{1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	var limit *LimitError
	if err := s.Devices.UseRecoveryCode(ctx, sc, "later", alice, codes[1]); !errors.As(err, &limit) || limit.Wait <= 0 {
		t.Fatalf("a use while another holds the lock: %v", err)
	}
	if left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, alice); left != len(codes)-1 {
		t.Fatalf("a cut-short use lost codes: %d left", left)
	}
	_ = s.Store.Delete(ctx, store.Key("recovery-lock", realm, alice))
	if err := s.Devices.UseRecoveryCode(ctx, sc, "later", alice, codes[1]); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}
