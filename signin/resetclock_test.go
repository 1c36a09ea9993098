package signin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAResetEndsTheInvitesMintedBeforeItWhateverTheClocks (attack28 F2):
// a reset ended "every invite minted before it" by comparing the invite's
// mint time (the minting instance's clock) with the reset's (the
// resetting instance's, or the admin workstation's running the CLI on the
// store): an invite minted 10 s before the reset by an instance 20 s
// ahead still stood, the link that leaked with the lost phone enrolling
// the thief's after the reset; and so did a flow that had accepted it.
// The revocation now writes her newest invite as none: both end by the
// invite's ID. Failed before the fix. On Badger and a real Redis.
func TestAResetEndsTheInvitesMintedBeforeItWhateverTheClocks(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := newServiceOn(st, LoginForm{})
		s.Revoked = session.ReadRevoked
		real := time.Now()
		ahead := gateAt(st, &real, 20*time.Second)
		tok, err := ahead.NewInvite(ctx, "r", "bob", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		accepted, err := ahead.NewInvite(ctx, "r", "carol", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var f Flow
		if _, err := s.AcceptInvite(ctx, "r", &f, accepted, ""); err != nil {
			t.Fatal(err)
		}
		real = real.Add(10 * time.Second) // the admin resets them 10 s later, from an instance on time
		for _, user := range []string{"bob", "carol"} {
			if err := session.RevokeUser(ctx, st, "r", user, real, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.InviteFor(ctx, "r", tok, ""); !errors.Is(err, enrollment.ErrInviteEnded) {
			t.Errorf("the invite minted before the reset (by an instance 20 s ahead): %v; want it ended (ErrInviteEnded)", err)
		}
		if ok, err := s.acceptedStands(ctx, "r", "carol", &f); ok || err != nil {
			t.Errorf("a flow that accepted an invite minted before the reset (by an instance 20 s ahead) still stands: %v, %v", ok, err)
		}
		// An invite minted after the reset stands.
		real = real.Add(time.Second)
		again, err := ahead.NewInvite(ctx, "r", "bob", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.InviteFor(ctx, "r", again, ""); err != nil {
			t.Errorf("an invite minted after the reset: %v", err)
		}
	})
}
