package enrollment

import (
	"context"
	"errors"
	"testing"

	"github.com/smsgate/caddy-smsgate/phone"
)

// TestThePolicyDecidesAtSendAndAtCheck: a policy narrowed after a code was
// sent (a reload) refuses the code of a number it would record (a first
// phone, an added one) and ends its challenge, before the try counts; a
// sign-in code to a phone already enrolled is not refused so; a blind page
// gets a decoy instead of the refusal.
func TestThePolicyDecidesAtSendAndAtCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, purpose := range []string{Enroll, Add, Verify} {
		t.Run(purpose, func(t *testing.T) {
			s, out, _ := newService(t)
			c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: purpose})
			if err != nil {
				t.Fatal(err)
			}
			s.Policy = &phone.Policy{AllowedRegions: []string{"GB"}} // the reload
			_, err = s.Check(ctx, sc, c, out.last(t).Code)
			if purpose == Verify {
				if err != nil {
					t.Fatalf("a sign-in code to an enrolled phone after the reload: %v, want it to count", err)
				}
				return
			}
			if !errors.As(err, new(*RefusedError)) || !errors.Is(err, phone.ErrRegion) {
				t.Fatalf("the code of a number the policy no longer allows: %v, want RefusedError", err)
			}
			if _, err := s.Challenge(ctx, realm, c.ID); !errors.Is(err, ErrNoChallenge) {
				t.Fatalf("its challenge stands: %v", err)
			}
			if n, err := s.Store.Counter(ctx, attemptsKey(realm, c.ID)); err != nil || n != 0 {
				t.Fatalf("the refusal counted a try: %d, %v", n, err)
			}
			if d, _ := s.Devices.Default(ctx, realm, alice); d != nil {
				t.Fatalf("a number the policy no longer allows was recorded: %+v", d)
			}
		})
	}
	t.Run("blind", func(t *testing.T) {
		s, out, _ := newService(t)
		s.Policy = &phone.Policy{AllowedRegions: []string{"GB"}}
		blind := sc
		blind.Blind = true
		c, err := s.Start(ctx, blind, Challenge{User: alice, Phone: num, Purpose: Verify})
		if err != nil || c.Phone != "" || !errors.As(c.Undelivered, new(*RefusedError)) || len(out.sent) != 0 {
			t.Fatalf("a refused number at a blind page: %+v, %v, %d sent; want a decoy", c, err, len(out.sent))
		}
	})
}
