package signin

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnInviteRacingTheEndOfItsAdminEnrolledBeforeOrNot (attack34b): the
// invite an admin (mallory, whose account a thief holds) minted for mal is
// accepted, or its enrollment code typed, while the real admin's revoke of
// mallory ends the invites she minted (session.EndMinted). Whichever comes
// first, mal holds a phone exactly when the enrollment answered done (it
// came before the end), and an acceptance raced by the end enrolls nothing
// afterwards: in every interleaving of their reads of mal's newest-invite
// record, and 10 times at once (50 with SMSGATE_FULL=1), on Badger and on
// a real Redis.
func TestAnInviteRacingTheEndOfItsAdminEnrolledBeforeOrNot(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il := &storetest.Interleaver{Store: st}
		s, out := invitingGate(t, il)
		sc := enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}
		runs := 0
		// enroll has f, which accepted mal's invite, enroll a phone: c is
		// its challenge, nil to start one now. It reports whether it
		// answered done.
		enroll := func(ctx context.Context, f *Flow, user string, c *enrollment.Challenge, code string) bool {
			if c == nil {
				var err error
				if c, err = s.Challenges.Start(ctx, sc, enrollment.Challenge{User: user, Phone: fmt.Sprintf("+1415555%04d", runs), Purpose: enrollment.Enroll}); err != nil {
					return false
				}
				out.mu.Lock()
				code = out.code
				out.mu.Unlock()
			}
			_, err := s.Check(ctx, sc, f, user, c, code, nil)
			return err == nil
		}
		holds := func(user string) bool {
			list, err := s.Devices.List(ctx, "r", user)
			if err != nil {
				t.Fatal(err)
			}
			return len(list) > 0
		}
		answers := map[string]int{}
		var admins []string // each run's minter, an admin of the gate (minted37)
		next := func(accepted bool) storetest.Pair {
			runs++
			user, minter := fmt.Sprint("mal", runs), fmt.Sprint("mallory", runs)
			admins = append(admins, minter)
			s.GiveAdmins(slices.Clone(admins))
			token, err := s.Invites.NewInviteBy(ctx, "r", user, minter, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			f := &Flow{ID: fmt.Sprint("f", runs)}
			var c *enrollment.Challenge
			var code string
			if accepted { // the code typed races the end
				if step, err := s.AcceptInvite(ctx, "r", f, token, user); err != nil || step != Enroll {
					t.Fatalf("accepting the invite: %v %v", step, err)
				}
				if c, err = s.Challenges.Start(ctx, sc, enrollment.Challenge{User: user, Phone: fmt.Sprintf("+1415555%04d", runs), Purpose: enrollment.Enroll}); err != nil {
					t.Fatal(err)
				}
				out.mu.Lock()
				code = out.code
				out.mu.Unlock()
			}
			var done bool
			var ended int
			var errEnd error
			return storetest.Pair{Key: endkeys.LatestInvite("r", user),
				A: func(ctx context.Context) {
					if !accepted { // the link taken races the end; its code is typed after both
						if _, err := s.AcceptInvite(ctx, "r", f, token, user); err != nil {
							return
						}
						accepted = true
						return
					}
					done = enroll(ctx, f, user, c, code)
				},
				B: func(ctx context.Context) {
					var e session.MintedEnd
					e, errEnd = session.EndMinted(ctx, il, "r", minter, time.Now(), zap.NewNop())
					ended = e.Ended
				},
				Check: func() {
					if errEnd != nil || ended > 1 {
						t.Fatalf("%s: the end: %d %v", user, ended, errEnd)
					}
					if c == nil && accepted { // accepted while the end ran: the code comes after it
						done = enroll(ctx, f, user, nil, "")
						answers["accepted, then enrolled"+map[bool]string{true: "", false: " nothing"}[done]]++
						if done || holds(user) {
							t.Errorf("%s: the invite enrolled a phone after the end of its admin", user)
						}
						return
					}
					answers[fmt.Sprintf("done %v, ended %d", done, ended)]++
					if done != holds(user) {
						t.Errorf("%s: the enrollment answered done %v, and mal holds a phone: %v", user, done, holds(user))
					}
					if !done && ended != 1 {
						t.Errorf("%s: refused, and the end ended %d", user, ended)
					}
				}}
		}
		interleavings := 0
		for _, accepted := range []bool{false, true} {
			interleavings += il.Interleave(t, func() storetest.Pair { return next(accepted) })
		}
		for range atOnce() {
			p := next(true)
			finished := make(chan struct{})
			go func() { p.B(ctx); close(finished) }()
			p.A(ctx)
			<-finished
			p.Check()
		}
		t.Logf("%d interleavings, %d at once: %v", interleavings, atOnce(), answers)
		if interleavings < 4 {
			t.Errorf("%d interleavings: the races did not both read the record", interleavings)
		}
	})
}
