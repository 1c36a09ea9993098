package enrollment

import (
	"context"
	"errors"
	"testing"
	"time"
)

// "N tries left" counts what will really happen: the lockout that comes
// before the challenge's last try.
func TestTriesLeftCountsTheLockout(t *testing.T) {
	s, out, _ := limited(t, Limits{LockAfter: 3, Lockout: time.Minute, MaxFailures: 100})
	ctx := context.Background()
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	if err != nil {
		t.Fatal(err)
	}
	wrong := wrongOf(codeOf(t, out))
	var w *WrongCodeError
	for want := 2; want >= 1; want-- {
		if _, err := s.Check(ctx, sc, c.ID, wrong); !errors.As(err, &w) || w.Left != want {
			t.Fatalf("wrong code: %v, want %d tries left (the lockout after 3)", err, want)
		}
	}
	var locked *LockedError
	if _, err := s.Check(ctx, sc, c.ID, wrong); !errors.As(err, &locked) {
		t.Fatalf("the third wrong code: %v, want the lockout it announced", err)
	}
}

// A verified challenge ends its cooldown: a second browser right after a
// sign-in need not wait.
func TestVerifiedCodeEndsItsCooldown(t *testing.T) {
	s, out, _ := newService(t)
	ctx := context.Background()
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, sc, c.ID, codeOf(t, out)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("a new sign-in right after one: %v", err)
	}
}

// A phone added to an account is not the default until it is used or
// chosen.
func TestNewPhoneIsNotTheDefault(t *testing.T) {
	s, _, clk := newService(t)
	ctx := context.Background()
	if err := s.Devices.Set(ctx, realm, alice, num); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Hour)
	id, err := s.Devices.Add(ctx, realm, alice, "+447400123456", "Work")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Devices.Default(ctx, realm, alice); d.Phone != num {
		t.Fatalf("the default after adding a phone: %s", d.Phone)
	}
	clk.advance(time.Minute)
	if err := s.Devices.MakeDefault(ctx, realm, alice, id); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Devices.Default(ctx, realm, alice); d.ID != id {
		t.Fatalf("the default after choosing the new phone: %s", d.Phone)
	}
}
