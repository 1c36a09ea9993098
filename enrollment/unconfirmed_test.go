package enrollment

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/providers"
)

// throughTwilio is a service whose texts go through a Twilio provider to
// the fake Twilio f (its real API's shapes). Its timeout is long: a send
// that the test wants cut is cut by cutOnceTaken.
func throughTwilio(t *testing.T, f *fakes.Twilio, l Limits) (*Challenges, *clock) {
	t.Helper()
	s, _, clk := limited(t, l)
	s.ResendCooldown = 30 * time.Second
	tw := &providers.Twilio{AccountSID: f.AccountSID, AuthToken: f.AuthToken, From: "+15005550006", BaseURL: f.URL,
		Timeout: caddy.Duration(time.Minute)}
	if err := tw.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	s.Sender = providers.Chain{Senders: []providers.Named{{Name: "twilio", Sender: cutOnceTaken(f, tw)}}}
	return s, clk
}

// cutOnceTaken is sender, giving up on each send — as a timeout does —
// once the fake f has taken the request, where f holds its answers
// (Delay): the failure comes after the gateway took the text however slow
// the machine (a timeout of a second was reached, under load, before the
// request reached the fake: nothing sent).
func cutOnceTaken(f *fakes.Twilio, sender providers.Sender) providers.Sender {
	if f.Delay == 0 {
		return sender
	}
	took := make(chan struct{}, 1)
	f.Took = func(fakes.Request) {
		select { // one is enough to cut the send; a retry's must not block the fake
		case took <- struct{}{}:
		default:
		}
	}
	return sendFunc(func(ctx context.Context, m providers.Message) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-took:
				cancel()
			case <-ctx.Done():
			}
		}()
		return sender.Send(ctx, m)
	})
}

// sendFunc is a function as a providers.Sender.
type sendFunc func(context.Context, providers.Message) error

func (f sendFunc) Send(ctx context.Context, m providers.Message) error { return f(ctx, m) }

// TestAnUnconfirmedSendCountsAsSent: a gateway that took the text and
// then hung until the send gave up (its timeout), or answered 500, may
// have sent it: the send is answered as sent, its failure kept to say so
// (Unconfirmed), and its cooldown, its challenge and the sends it counted
// stay — "send again", and a new sign-in, within the wait are refused with
// it, and the fake Twilio gets no second request; the user's budget stays
// spent. A clear refusal (a 401, the number's fault) sent nothing: the
// wait is given back as before. Before, every failure but the number's
// gave everything back but the global budget: each "send again" was one
// more real text.
func TestAnUnconfirmedSendCountsAsSent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	limits := Limits{User: Rate{2, time.Hour}, LockAfter: 10, Lockout: time.Minute, MaxFailures: 100}
	for name, fail := range map[string]func(f *fakes.Twilio){
		"hangs, and the send gives up": func(f *fakes.Twilio) { f.Delay = time.Minute },
		"answers 500":                  func(f *fakes.Twilio) { f.Status = http.StatusInternalServerError },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := fakes.NewTwilio(t)
			fail(f)
			s, clk := throughTwilio(t, f, limits)
			c, err := s.Start(ctx, enrolled, Challenge{User: alice, Phone: num, Purpose: Enroll})
			if err != nil || c == nil || c.Unconfirmed == nil || !errors.As(c.Unconfirmed, new(*SendError)) {
				t.Fatalf("a send Twilio may have taken: %+v, %v", c, err)
			}
			var cd *CooldownError
			if _, err := s.Resend(ctx, enrolled, c.ID); !errors.As(err, &cd) || cd.Wait != 30*time.Second {
				t.Fatalf("send again at once: %v; want the 30 s wait", err)
			}
			if _, err := s.Start(ctx, enrolled, Challenge{User: alice, Phone: num, Purpose: Enroll}); !errors.As(err, &cd) {
				t.Fatalf("a new sign-in at once: %v; want the wait", err)
			}
			if n := len(f.Requests()); n != 1 {
				t.Fatalf("the fake Twilio got %d requests; want 1", n)
			}
			if _, err := s.Challenge(ctx, realm, c.ID); err != nil {
				t.Fatalf("the code that may have gone out: %v", err)
			}
			// Past the wait, the user's budget says it was spent: one more.
			clk.advance(time.Minute)
			if _, err := s.Resend(ctx, enrolled, c.ID); err != nil && !errors.As(err, new(*SendError)) {
				t.Fatalf("send again past the wait: %v", err)
			}
			var limit *LimitError
			clk.advance(5 * time.Minute)
			if _, err := s.Start(ctx, enrolled, Challenge{User: alice, Phone: num, Purpose: Enroll}); !errors.As(err, &limit) || limit.Limit != "user" {
				t.Fatalf("a third send: %v; want the user's budget of 2 spent", err)
			}
		})
	}
	for name, refuse := range map[string]func(f *fakes.Twilio) string{
		"401":               func(f *fakes.Twilio) string { f.Status = http.StatusUnauthorized; return num },
		"an invalid number": func(*fakes.Twilio) string { return "+15005550001" },
	} {
		t.Run("refused: "+name, func(t *testing.T) {
			t.Parallel()
			f := fakes.NewTwilio(t)
			to := refuse(f)
			s, _ := throughTwilio(t, f, limits)
			for i := range 2 {
				_, err := s.Start(ctx, enrolled, Challenge{User: alice, Phone: to, Purpose: Enroll})
				if !errors.As(err, new(*SendError)) {
					t.Fatalf("send %d, refused: %v; want it refused again, not waiting", i+1, err)
				}
			}
			if n := len(f.Requests()); n != 2 {
				t.Fatalf("the fake Twilio got %d requests; want 2", n)
			}
		})
	}
}
