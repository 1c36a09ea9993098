package signin

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// resetBench is a sign-in service on a store, with the admin's reset.
type resetBench struct {
	s   *Service
	ch  *enrollment.Challenges
	dev *enrollment.Devices
	out *lastCode
	st  store.Store
}

var resetScope = enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}

// newResetBench is a gate behind basic_auth with enrollment closed, on st,
// whose clock is now.
func newResetBench(t *testing.T, st store.Store, now func() time.Time) *resetBench {
	tpl, err := enrollment.ParseTemplates("", "")
	if err != nil {
		t.Fatal(err)
	}
	b := &resetBench{out: &lastCode{}, st: st}
	b.ch, b.dev, _ = enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: now},
		enrollment.Challenges{Sender: b.out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, Templates: tpl})
	b.s = &Service{Identity: FirstFactor{Open: false}, Challenges: b.ch, Devices: b.dev, Channels: []factor.Channel{factor.ChannelSMS},
		Notices:    new(codes), // "a recovery code was used"
		CodeLength: 6, Now: now, Logger: zap.NewNop(),
		Revoked: session.ReadRevoked}
	return b
}

// reset is the admin API's reset of user (admin's adminOp "reset").
func (b *resetBench) reset(ctx context.Context, user string) error {
	if err := session.RevokeUser(ctx, b.st, "r", user, time.Now(), nil); err != nil {
		return err
	}
	if err := b.dev.ResetUser(ctx, "r", user); err != nil {
		return err
	}
	if err := session.UntrustAll(ctx, b.st, "r", user); err != nil {
		return err
	}
	return session.RevokeUser(ctx, b.st, "r", user, time.Now(), nil)
}

// enrollBy has the flow f, sent on to the Enroll step by a recovery code,
// enroll a phone for user, as its holder would next.
func (b *resetBench) enrollBy(ctx context.Context, f *Flow, user, phone string) {
	c, err := b.ch.Start(ctx, resetScope, enrollment.Challenge{User: user, Phone: phone, Purpose: enrollment.Enroll})
	if err != nil {
		return
	}
	b.out.mu.Lock()
	code := b.out.code
	b.out.mu.Unlock()
	_, _ = b.s.Check(ctx, resetScope, f, user, c, code, nil)
}

// left says what user holds after a reset: "" for nothing.
func (b *resetBench) left(t *testing.T, user string) string {
	ctx := context.Background()
	list, err := b.dev.List(ctx, "r", user)
	n, err2 := b.dev.RecoveryCodesLeft(ctx, "r", user)
	switch {
	case err != nil || err2 != nil:
		t.Fatalf("%s: %v %v", user, err, err2)
	case len(list) > 0:
		return "a phone"
	case n > 0:
		return "recovery codes"
	}
	return ""
}

// TestARecoveryCodeRacingAResetEnrollsNothing: the holder of alice's
// recovery codes (printed, kept with the phone that was stolen) types one
// while the admin resets her: every session revoked, her phone removed,
// then her recovery codes, revoked again. A code used once her phone is
// gone sends its flow on to enroll a first phone (useRecovery), and a
// reset is not one write: between its removal of the phone and of the
// codes, a code still works, and finds no phone. Whichever comes first,
// the flow then enrolls nothing, and she holds no phone and no code: in
// every interleaving of their reads of her device list and of her recovery
// set, and 10 times at once (50 with SMSGATE_FULL=1), on Badger and on a
// real Redis.
func TestARecoveryCodeRacingAResetEnrollsNothing(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il := &storetest.Interleaver{Store: st}
		b := newResetBench(t, il, time.Now)
		runs := 0
		left, answers := map[string]int{}, map[string]int{}
		next := func(key func(user string) string) storetest.Pair {
			runs++
			user := fmt.Sprint("user", runs)
			if _, _, err := b.dev.AddIn(ctx, "r", user, fmt.Sprintf("+1415555%04d", runs), "Phone", ""); err != nil {
				t.Fatal(err)
			}
			r, err := b.dev.FirstRecoveryCodes(ctx, "r", user)
			if err != nil || r == nil {
				t.Fatalf("%s's codes: %v", user, err)
			}
			f := &Flow{ID: fmt.Sprint("f", runs)}
			var errCode, errReset error
			return storetest.Pair{Key: key(user),
				A: func(ctx context.Context) { _, errCode = b.s.Check(ctx, resetScope, f, user, nil, r.Codes[0], nil) },
				B: func(ctx context.Context) { errReset = b.reset(ctx, user) },
				Check: func() {
					if errReset != nil {
						t.Fatalf("%s: the reset: %v", user, errReset)
					}
					var step *StepError
					switch {
					case errors.As(errCode, &step) && step.Step == Enroll:
						answers["sent on to enroll"]++
						b.enrollBy(ctx, f, user, fmt.Sprintf("+1415666%04d", runs))
					case errCode == nil:
						answers["signed in"]++ // a session the reset's last revocation ends
					default:
						answers["refused"]++
					}
					if what := b.left(t, user); what != "" {
						left[what]++
					}
				}}
		}
		interleavings := 0
		for _, key := range []func(string) string{
			func(user string) string { return store.Key("device", "r", user) },
			func(user string) string { return store.Key("recovery", "r", user) },
		} {
			interleavings += il.Interleave(t, func() storetest.Pair { return next(key) })
		}
		interleaved := left
		left = map[string]int{}
		for range atOnce() {
			p := next(func(user string) string { return store.Key("device", "r", user) })
			done := make(chan struct{})
			go func() { p.B(ctx); close(done) }()
			p.A(ctx)
			<-done
			p.Check()
		}
		t.Logf("%s: %d interleavings, %d at once: the code was %v; left after both: %v in the interleavings, %v at once", t.Name(), interleavings, atOnce(), answers, interleaved, left)
		if interleavings < 4 || len(interleaved)+len(left) > 0 {
			t.Errorf("%d interleavings, %d at once: left after both: %v in the interleavings, %v at once", interleavings, atOnce(), interleaved, left)
		}
	})
}

// signingIn marks the sign-in's store calls (armOnRead).
type signingIn struct{}

// armOnRead is a store that arms a hook when the sign-in reads key.
type armOnRead struct {
	store.Store
	key   string
	armed atomic.Bool
}

func (a *armOnRead) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := a.Store.Get(ctx, key)
	if key == a.key && ctx.Value(signingIn{}) != nil {
		a.armed.Store(true)
	}
	return v, err
}

// TestAResetRightAfterARecoveryCodeFoundNoPhoneEndsItsEnrollment: alice
// has recovery codes and no phone (the admin removed it: remove-device
// keeps the codes), and the holder of her codes types one as the admin
// resets her. The reset lands right after the sign-in has burnt the code
// and read that she holds no phone, before anything else of it: the code
// was good when used, and its flow is sent on to enroll a first phone,
// but the reset came after, so that enrollment is refused and she holds
// nothing. On Badger and on a real Redis. Before, the flow was stamped
// (Flow.InvitedAt, which a reset since ends: standing) when the sign-in
// had read there was no phone, after the code was burnt: here after the
// reset's last revocation, so the reset did not end it, and the phone
// was enrolled (the hold stands for a pause of the request, which only
// the scheduler chooses).
func TestAResetRightAfterARecoveryCodeFoundNoPhoneEndsItsEnrollment(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		const user = "alice"
		hook := &armOnRead{Store: st, key: store.Key("device", "r", user)}
		var b *resetBench
		resetErr := make(chan error, 1)
		fire := func() {
			if hook.armed.CompareAndSwap(true, false) {
				resetErr <- b.reset(context.Background(), user)
			}
		}
		b = newResetBench(t, hook, func() time.Time { fire(); return time.Now() })
		r, err := b.dev.FirstRecoveryCodes(ctx, "r", user)
		if err != nil || r == nil {
			t.Fatalf("her codes: %v", err)
		}
		f := &Flow{ID: "f"}
		_, err = b.s.Check(context.WithValue(ctx, signingIn{}, true), resetScope, f, user, nil, r.Codes[0], nil)
		if step := (*StepError)(nil); !errors.As(err, &step) || step.Step != Enroll {
			t.Fatalf("her code: %v, want the Enroll step", err)
		}
		fire() // if nothing of the sign-in read the clock since
		select {
		case err := <-resetErr:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("the sign-in never read her devices")
		}
		b.enrollBy(ctx, f, user, "+14156660001")
		if what := b.left(t, user); what != "" {
			t.Errorf("after the reset she holds %s: the code used before it enrolled one after it", what)
		}
	})
}
