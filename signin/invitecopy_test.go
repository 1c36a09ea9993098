package signin

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// lastCode is a sender that keeps the last code sent.
type lastCode struct {
	mu   sync.Mutex
	code string
}

func (l *lastCode) Send(_ context.Context, m providers.Message) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.code = m.Code
	return nil
}

// TestAnAcceptedInviteEnrollsOnce: behind basic_auth with enrollment
// closed, the holder of an invite link accepts it and keeps a copy of the
// flow cookie (sealed, but a cookie is copied whole); they enroll their
// phone by it. The admin removes that phone (remove-device, the last
// device allowed). The copy must not enroll another phone: the invite was
// used once, by the first enrollment. Nor may a flow that a recovery code
// let enroll (the user had no device left) enroll twice. On Badger and on
// a real Redis.
func TestAnAcceptedInviteEnrollsOnce(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		tpl, err := enrollment.ParseTemplates("", "")
		if err != nil {
			t.Fatal(err)
		}
		out := &lastCode{}
		ch, dev, adm := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now},
			enrollment.Challenges{Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, Templates: tpl})
		s := &Service{Identity: FirstFactor{Open: false}, Challenges: ch, Devices: dev, Invites: adm, Channels: []factor.Channel{"sms"},
			CodeLength: 6, Now: time.Now, Logger: zap.NewNop()}
		sc := enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}
		// send sends a first phone's code to e164 in flow f; the typing
		// it answers enrolls it, and says its ID.
		send := func(f *Flow, user, e164 string) func() (string, error) {
			if step, err := s.Next(ctx, "r", f, user); err != nil || step != Enroll {
				return func() (string, error) {
					return "", errors.Join(err, errors.New("not sent to the enroll step: "+step.String()))
				}
			}
			c, err := ch.Start(ctx, sc, enrollment.Challenge{User: user, Phone: e164, Purpose: enrollment.Enroll})
			if err != nil {
				t.Fatal(err)
			}
			out.mu.Lock()
			code := out.code
			out.mu.Unlock()
			return func() (string, error) {
				if _, err := s.Check(ctx, sc, f, user, c, code, nil); err != nil {
					return "", err
				}
				list, err := dev.List(ctx, "r", user)
				if err != nil || len(list) != 1 {
					t.Fatalf("%s's devices after an enrollment: %v, %v", user, list, err)
				}
				return list[0].ID, nil
			}
		}
		enroll := func(f *Flow, user, e164 string) (string, error) { return send(f, user, e164)() }
		// removeAll is the admin's remove-device of each of user's devices.
		removeAll := func(user string) {
			list, err := dev.List(ctx, "r", user)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range list {
				if _, err := dev.Remove(ctx, "r", user, d.ID, true); err != nil {
					t.Fatal(err)
				}
			}
		}

		token, err := adm.NewInvite(ctx, "r", "dave", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f := &Flow{ID: "f1"}
		if step, err := s.AcceptInvite(ctx, "r", f, token, "dave"); err != nil || step != Enroll {
			t.Fatalf("accepting the invite: %v %v", step, err)
		}
		saved := *f // the flow cookie, copied
		// One copy has its code sent before the first enrollment, another after.
		early := saved
		typeEarly := send(&early, "dave", "+14155550111")
		if _, err := enroll(f, "dave", "+14155550110"); err != nil {
			t.Fatalf("the invite's enrollment: %v", err)
		}
		removeAll("dave")
		if id, err := typeEarly(); err == nil {
			t.Errorf("a copy of the flow that accepted an invite, its code sent before the first enrollment, enrolled a second phone (%s) after the first was removed", id)
		}
		removeAll("dave")
		late := saved
		if id, err := enroll(&late, "dave", "+14155550112"); err == nil {
			t.Errorf("a copy of the flow that accepted an invite enrolled a second phone (%s) after the first was removed", id)
		}
		if list, _ := dev.List(ctx, "r", "dave"); len(list) != 0 {
			t.Errorf("dave's devices after the copies: %v, want none", list)
		}

		// A recovery code with no device left lets one phone enroll.
		codes, err := dev.RenewRecoveryCodes(ctx, "r", "erin")
		if err != nil {
			t.Fatal(err)
		}
		g := &Flow{ID: "f2", User: "erin"}
		var step *StepError
		if _, err := s.Check(ctx, sc, g, "erin", nil, codes.Codes[0], nil); !errors.As(err, &step) || step.Step != Enroll {
			t.Fatalf("a recovery code with no device: %v", err)
		}
		savedRecovery := *g
		if _, err := enroll(g, "erin", "+14155550113"); err != nil {
			t.Fatalf("the recovery code's enrollment: %v", err)
		}
		removeAll("erin")
		copiedRecovery := savedRecovery
		if id, err := enroll(&copiedRecovery, "erin", "+14155550114"); err == nil {
			t.Errorf("a copy of the flow a recovery code let enroll enrolled a second phone (%s) after the first was removed", id)
		}
	})
}

// sentTo is a sender that keeps every message it sends.
type sentTo struct {
	mu   sync.Mutex
	sent []providers.Message
}

func (s *sentTo) Send(_ context.Context, m providers.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

func (s *sentTo) count(e164 string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.sent {
		if m.To == e164 {
			n++
		}
	}
	return n
}

// TestACopiedFlowWhoseInviteEnrolledSendsNoMore: behind basic_auth with
// enrollment closed, a copy of the flow that accepted dave's invite has a
// first phone's code sent to a number; then the flow enrolls dave's phone
// by the invite. The copy's code can enroll nothing any more (spend), so
// neither "send again" nor "call me instead" sends it: no text nor call
// that whoever holds the copy triggers at will (the resend limits aside).
// On Badger and on a real Redis. (Before: both went out.)
func TestACopiedFlowWhoseInviteEnrolledSendsNoMore(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		tpl, err := enrollment.ParseTemplates("", "")
		if err != nil {
			t.Fatal(err)
		}
		out := &sentTo{}
		ch, dev, adm := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now},
			enrollment.Challenges{Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, Templates: tpl})
		s := &Service{Identity: FirstFactor{Open: false}, Challenges: ch, Devices: dev, Invites: adm, Channels: []factor.Channel{"sms", "voice"},
			CodeLength: 6, Now: time.Now, Logger: zap.NewNop()}
		sc := enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}
		token, err := adm.NewInvite(ctx, "r", "dave", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f := &Flow{ID: "f1"}
		if step, err := s.AcceptInvite(ctx, "r", f, token, "dave"); err != nil || step != Enroll {
			t.Fatalf("accepting the invite: %v %v", step, err)
		}
		copied := *f
		const other = "+14155550111"
		pending, err := s.Enroll(ctx, sc, &copied, "dave", other, "")
		if err != nil || out.count(other) != 1 {
			t.Fatalf("the copy's code: %v, %d sent", err, out.count(other))
		}
		// Before the invite enrolled a phone, the copy may send again.
		if pending, err = s.Resend(ctx, sc, &copied, "dave", pending); err != nil || out.count(other) != 2 {
			t.Fatalf("the copy's code again, before the enrollment: %v, %d sent", err, out.count(other))
		}
		c, err := s.Enroll(ctx, sc, f, "dave", "+14155550110", "")
		if err != nil {
			t.Fatal(err)
		}
		out.mu.Lock()
		code := out.sent[len(out.sent)-1].Code
		out.mu.Unlock()
		if _, err := s.Check(ctx, sc, f, "dave", c, code, nil); err != nil {
			t.Fatalf("the invite's enrollment: %v", err)
		}
		again := copied
		if _, err := s.Resend(ctx, sc, &again, "dave", pending); err == nil {
			t.Error(`"send again" of the copy's code, its invite spent, answered no error`)
		}
		call := copied
		if _, err := s.Send(ctx, sc, &call, "dave", factor.ChannelVoice, pending, "", ""); err == nil {
			t.Error(`"call me instead" of the copy's code, its invite spent, answered no error`)
		}
		if n := out.count(other); n != 2 {
			t.Errorf("%d codes sent to the copy's number after the invite enrolled a phone, want none", n-2)
		}
	})
}
