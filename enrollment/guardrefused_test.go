package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/pumping/pumpingtest"
)

// unusedOf is the codes in a row the guard counts e164 left unused,
// those given back aside: as the guard reads it (pumpingtest.Counts).
func unusedOf(t *testing.T, s *Challenges, e164 string) int64 {
	t.Helper()
	_, unused, err := pumpingtest.Counts(context.Background(), s.Guard, realm, e164, s.numberID(e164))
	if err != nil {
		t.Fatal(err)
	}
	return unused
}

// TestASendTheGuardRefusedIsNoCode: the send that pauses a prefix (the
// 20th code to it, none used) is refused, and gives back its count
// where its pause did not forget it: its country saw the 19 texts that
// went, and its number no code unused. So too an enrolled number, past
// its grace, whose send pauses its prefix: on its own page, and at a
// login form, where the refusal is answered blind (as a decoy's). Before,
// the refused send was given back nothing: its country counted a 20th
// code and its number one more unused, neither ever sent.
func TestASendTheGuardRefusedIsNoCode(t *testing.T) {
	t.Parallel()
	for name, open := range guardStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Run("new number", func(t *testing.T) {
				s, out, _, heard := guarded(t, open(t))
				ctx := context.Background()
				for i := range pumping.Defaults.PrefixMinSends {
					_, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot", i), Phone: attacked(i), Purpose: Enroll})
					if last := i == pumping.Defaults.PrefixMinSends-1; last != isPumping(err) || (!last && err != nil) {
						t.Fatalf("send %d: %v", i+1, err)
					}
				}
				refused := attacked(pumping.Defaults.PrefixMinSends - 1)
				texts := float64(out.sentCount())
				if saw, unused := guardSaw(t, s, refused), unusedOf(t, s, refused); heard.len() != 1 || saw != [2]float64{texts, 0} || unused != 0 {
					t.Fatalf("%v texts, %d pauses: the guard saw %v codes sent to the country and the prefix, and %d unused by the refused number; want %v, 0 and 0",
						texts, heard.len(), saw, unused, texts)
				}
			})
			for _, at := range []struct {
				name  string
				scope Scope
			}{{"owner's page", sc}, {"login form", loginForm}} {
				t.Run(at.name, func(t *testing.T) {
					s, out, clk, heard := guarded(t, open(t))
					ctx := context.Background()
					owner := Challenge{User: "owner", Phone: attacked(99999), Purpose: Verify, LimitKey: "login owner"}
					for range pumping.Defaults.Grace {
						if _, err := s.Start(ctx, at.scope, owner); err != nil {
							t.Fatal(err)
						}
						clk.advance(5 * time.Minute)
					}
					for i := range pumping.Defaults.PrefixMinSends - pumping.Defaults.Grace - 1 {
						if _, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot", i), Phone: attacked(i), Purpose: Enroll}); err != nil {
							t.Fatal(err)
						}
					}
					c, err := s.Start(ctx, at.scope, owner)
					if at.scope.Blind {
						if err != nil || !isPumping(c.Undelivered) {
							t.Fatalf("the owner's send that paused the prefix, at a login form: %v, undelivered %v", err, c.Undelivered)
						}
					} else if !isPumping(err) {
						t.Fatalf("the owner's send that paused the prefix: %v", err)
					}
					texts := float64(out.sentCount())
					if saw, unused := guardSaw(t, s, owner.Phone), unusedOf(t, s, owner.Phone); heard.len() != 1 || saw != [2]float64{texts, 0} || unused != int64(pumping.Defaults.Grace) {
						t.Fatalf("%v texts, %d pauses: the guard saw %v codes sent to the country and the prefix, and %d unused by the owner; want %v, 0 and %d",
							texts, heard.len(), saw, unused, texts, pumping.Defaults.Grace)
					}
				})
			}
		})
	}
}

// TestABlindSendTheGatewaySentNothingForIsNoCode: at a login form, a
// sign-in's send the gateway sent nothing for (an outage) is answered as
// any (blind), and gives its count in the guard back: its country and
// prefix saw no code, its number none unused, so that an outage does not
// pause a place, nor end the grace of its enrolled numbers. Before, each
// counted as a code sent and never used.
func TestABlindSendTheGatewaySentNothingForIsNoCode(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	withGuard(s, clk)
	out.err = providers.NotSent(errors.New("connection refused"))
	c, err := s.Start(context.Background(), loginForm, Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"})
	if err != nil || c.Undelivered == nil {
		t.Fatalf("a login form's send the gateway refused: %v, undelivered %v", err, c.Undelivered)
	}
	if saw, unused := guardSaw(t, s, num), unusedOf(t, s, num); saw != [2]float64{} || unused != 0 {
		t.Fatalf("the guard saw %v codes sent to the country and the prefix, and %d unused; want none", saw, unused)
	}
}
