package enrollment

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAcknowledgedWritesAreLasting: an enrollment, a device change, a used
// recovery code and a reset are durable before the user hears of them; a
// sign-in with an enrolled phone costs no sync at all.
func TestAcknowledgedWritesAreLasting(t *testing.T) {
	t.Parallel()
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
	// A removal's record of what it removes (tombstones.go) is lasting
	// too: lost to a power cut that kept the removal, an import brings it
	// back. One sync more for a removal or a used code, never a sign-in.
	step("a recovery code used", "put recovery, put spent-recovery", func() {
		if err := s.Devices.UseRecoveryCode(ctx, sc, "flow", alice, codes[0]); err != nil {
			t.Fatal(err)
		}
	})
	step("a reset", "put removed-device, delete device, put spent-recovery, delete recovery", func() {
		if err := s.Devices.ResetUser(ctx, realm, alice); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRecoveryCodeUseLosesNothing: of eight uses of one code at once, one
// succeeds; of eight different codes used at once, all succeed and all
// are burnt (each use sees the others': none is lost, none waits).
func TestRecoveryCodeUseLosesNothing(t *testing.T) {
	t.Parallel()
	s, _, _ := newService(t)
	ctx := context.Background()
	codes, err := s.Devices.NewRecoveryCodes(ctx, realm, alice)
	if err != nil {
		t.Fatal(err)
	}
	ips := 0
	use := func(code func(i int) string) (won int) {
		errs := make(chan error, 8)
		for i := 0; i < cap(errs); i++ {
			ips++
			from := Scope{Realm: realm, Host: host, IP: "192.0.2." + strconv.Itoa(ips)} // within each IP's tries
			go func() { errs <- s.Devices.UseRecoveryCode(ctx, from, "flow"+strconv.Itoa(i), alice, code(i)) }()
		}
		for i := 0; i < cap(errs); i++ {
			switch err := <-errs; {
			case err == nil:
				won++
			case !errors.Is(err, ErrWrongRecovery):
				t.Fatalf("a concurrent use: %v", err)
			}
		}
		return won
	}
	if won := use(func(int) string { return codes[0] }); won != 1 {
		t.Fatalf("%d uses of one code succeeded", won)
	}
	if left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, alice); left != len(codes)-1 {
		t.Fatalf("after one code used, %d codes left of %d", left, len(codes))
	}
	if won := use(func(i int) string { return codes[1+i] }); won != 8 {
		t.Fatalf("%d of 8 different codes used at once succeeded", won)
	}
	if left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, alice); left != len(codes)-9 {
		t.Fatalf("after 9 codes used, %d codes left of %d", left, len(codes))
	}
}
