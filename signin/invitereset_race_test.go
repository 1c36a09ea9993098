package signin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnInvitesEnrollmentRacingAResetLeavesNothing: the holder of a leaked
// invite link has accepted it and types the code that enrolls their phone
// while the admin resets the user (the admin API's reset: every session
// revoked, every device and recovery code removed, revoked again). Once
// both are done the user holds no phone and no recovery code, whichever
// came first: in every interleaving of their reads of the user's devices,
// and 10 times at once (50 with SMSGATE_FULL=1: atOnce), on Badger and on
// a real Redis. (An enrollment before the reset is undone by it; one after
// it, or between its steps, finds its invite ended, standing, and undoes
// itself: kept.)
func TestAnInvitesEnrollmentRacingAResetLeavesNothing(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il := &storetest.Interleaver{Store: st}
		s, out := invitingGate(t, il)
		sc := enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}
		reset := func(ctx context.Context, user string) error {
			if err := session.RevokeUser(ctx, il, "r", user, time.Now(), nil); err != nil {
				return err
			}
			if err := s.Devices.ResetUser(ctx, "r", user); err != nil {
				return err
			}
			return session.RevokeUser(ctx, il, "r", user, time.Now(), nil)
		}
		runs, enrolledFirst := 0, 0
		left := map[string]int{}
		next := func() storetest.Pair {
			runs++
			user := fmt.Sprint("user", runs)
			token, err := s.Invites.NewInvite(ctx, "r", user, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			f := &Flow{ID: fmt.Sprint("f", runs)}
			if step, err := s.AcceptInvite(ctx, "r", f, token, user); err != nil || step != Enroll {
				t.Fatalf("accepting the invite: %v %v", step, err)
			}
			c, err := s.Challenges.Start(ctx, sc, enrollment.Challenge{User: user, Phone: fmt.Sprintf("+1415555%04d", runs), Purpose: enrollment.Enroll})
			if err != nil {
				t.Fatal(err)
			}
			out.mu.Lock()
			code := out.code
			out.mu.Unlock()
			var errEnroll, errReset error
			return storetest.Pair{Key: store.Key("device", "r", user),
				A: func(ctx context.Context) { _, errEnroll = s.Check(ctx, sc, f, user, c, code, nil) },
				B: func(ctx context.Context) { errReset = reset(ctx, user) },
				Check: func() {
					if errReset != nil {
						t.Fatalf("%s: the reset: %v", user, errReset)
					}
					if errEnroll == nil {
						enrolledFirst++
					}
					if list, err := s.Devices.List(ctx, "r", user); err != nil || len(list) > 0 {
						left["a phone"]++
					}
					if n, err := s.Devices.RecoveryCodesLeft(ctx, "r", user); err != nil || n > 0 {
						left["recovery codes"]++
					}
				}}
		}
		interleavings := il.Interleave(t, next)
		for range atOnce() {
			p := next()
			done := make(chan struct{})
			go func() { p.B(ctx); close(done) }()
			p.A(ctx)
			<-done
			p.Check()
		}
		t.Logf("%d interleavings, %d at once: the enrollment answered done in %d; left after both: %v", interleavings, atOnce(), enrolledFirst, left)
		if interleavings < 2 || len(left) > 0 {
			t.Errorf("%d interleavings, %d at once: left after both: %v", interleavings, atOnce(), left)
		}
	})
}

// invitingGate is a gate on st whose first factor names its users and
// whose enrollment is closed (an invite opens it), texting through out:
// the invite race tests'.
func invitingGate(t *testing.T, st store.Store) (*Service, *lastCode) {
	t.Helper()
	tpl, err := enrollment.ParseTemplates("", "")
	if err != nil {
		t.Fatal(err)
	}
	out := &lastCode{}
	ch, dev, adm := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now},
		enrollment.Challenges{Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, Templates: tpl})
	return &Service{Identity: FirstFactor{Open: false}, Challenges: ch, Devices: dev, Invites: adm, Channels: []factor.Channel{factor.ChannelSMS},
		CodeLength: 6, Now: time.Now, Logger: zap.NewNop(), Revoked: session.ReadRevoked}, out
}
