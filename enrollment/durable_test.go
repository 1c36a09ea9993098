package enrollment

import (
	"context"
	"testing"
	"time"

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
		if _, err := s.Check(ctx, sc, c.ID, out.last(t).Code); err != nil {
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
