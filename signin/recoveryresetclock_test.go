package signin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARecoveryCodesEnrollmentEndsWithAResetWhateverTheClocks (clock32
// 3): a recovery code used at a gate 20 s ahead, with no phone left, sends
// its flow on to enroll a first phone; the admin resets alice right after
// from an instance on time. The enrollment was stamped when the code was
// used, by the gate's clock, and stood where that stamp was later than the
// reset's revocation: the code's holder (who kept the codes with the
// stolen phone) enrolled a phone after the reset. Now it ends by the ID
// of what the code let in, which the reset's revocation ends, as an
// invite does. On Badger and a real Redis.
func TestARecoveryCodesEnrollmentEndsWithAResetWhateverTheClocks(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		const user = "alice"
		b := newResetBench(t, st, func() time.Time { return time.Now().Add(20 * time.Second) }) // the gate ahead
		r, err := b.dev.FirstRecoveryCodes(ctx, "r", user)
		if err != nil || r == nil {
			t.Fatalf("her codes: %v", err)
		}
		f := &Flow{ID: "f"}
		_, err = b.s.Check(context.WithValue(ctx, signingIn{}, true), resetScope, f, user, nil, r.Codes[0], nil)
		if step := (*StepError)(nil); !errors.As(err, &step) || step.Step != Enroll {
			t.Fatalf("her code: %v, want the Enroll step", err)
		}
		if err := b.reset(ctx, user); err != nil { // on time: time.Now()
			t.Fatal(err)
		}
		b.enrollBy(ctx, f, user, "+14156660001")
		if what := b.left(t, user); what != "" {
			t.Errorf("after the reset she holds %s: the code used just before it at a gate 20 s ahead enrolled one after it", what)
		}
		// A code of a set made after the reset still lets its flow enroll.
		r, err = b.dev.FirstRecoveryCodes(ctx, "r", user)
		if err != nil || r == nil {
			t.Fatalf("her new codes: %v", err)
		}
		g := &Flow{ID: "g"}
		if _, err = b.s.Check(context.WithValue(ctx, signingIn{}, true), resetScope, g, user, nil, r.Codes[0], nil); err == nil {
			t.Fatal("her new code: no Enroll step")
		}
		b.enrollBy(ctx, g, user, "+14156660002")
		if what := b.left(t, user); what != "a phone" {
			t.Errorf("a code of a set made after the reset enrolled nothing: %q", what)
		}
	})
}
