package signin

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestInstancesWhoseAdminsDifferJudgeHerInviteApart (close16's Left 4,
// invites38: decided, SECURITY.md): two instances on one store in a
// rolling change of the config, the one not yet reloaded naming mallory
// in admins, the one reloaded not. Each judges her console invite by its
// own running config, as each grants her an admin's powers by it: the
// old honours mal's link, the new refuses it (ErrInviteMinterGone). No
// judgement is stored (the last config started would decide for every
// instance, and an old one restarting would write its list back). The
// store's end reaches every instance at once: the operator's revoke of
// her (session.EndUser, `caddy smsgate revoke`) withdraws it at both.
// On Badger and Redis.
func TestInstancesWhoseAdminsDifferJudgeHerInviteApart(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		old, reloaded := newServiceOn(st, LoginForm{}), newServiceOn(st, LoginForm{})
		old.GiveAdmins([]string{"alice", "mallory"})
		reloaded.GiveAdmins([]string{"alice"})
		token, err := old.Invites.NewInviteBy(ctx, "r", "mal", "mallory", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.InviteFor(ctx, "r", token, ""); err != nil {
			t.Errorf("mal's link at the instance whose config names mallory: %v; want it honoured", err)
		}
		if _, err := reloaded.InviteFor(ctx, "r", token, ""); !errors.Is(err, ErrInviteMinterGone) {
			t.Errorf("mal's link at the instance whose config no longer names mallory: %v; want ErrInviteMinterGone", err)
		}
		if _, err := session.EndUser(ctx, st, "r", "mallory", time.Now(), zap.NewNop()); err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]*Service{"old": old, "reloaded": reloaded} {
			if _, err := s.InviteFor(ctx, "r", token, ""); !errors.Is(err, enrollment.ErrInviteWithdrawn) {
				t.Errorf("mal's link at the %s instance once mallory was revoked: %v; want ErrInviteWithdrawn", name, err)
			}
		}
	})
}
