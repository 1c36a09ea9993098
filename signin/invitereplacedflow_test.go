package signin

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAFlowThatAcceptedAReplacedInviteEndsWithIt (invite26, review27 I3):
// bob accepted link A; the admin then mints B for him. A's flow may no
// longer enroll a phone (each send of a code and the completion ask), B
// may: one invite's enrollment stands, not two. A recovery code's
// enrollment (it names no invite) and an invite's flow of the release
// before (no invite ID) are not ended by the newer invite. On Badger and
// Redis. (Before, A's flow enrolled too: the check read the reset's
// record and the spend only.)
func TestAFlowThatAcceptedAReplacedInviteEndsWithIt(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := newServiceOn(st, LoginForm{})
		_, _, adm := enrollment.New(&enrollment.Core{Store: st, Now: time.Now}, enrollment.Challenges{})
		a, err := adm.NewInvite(ctx, "r", "bob", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var byA Flow
		if _, err := s.AcceptInvite(ctx, "r", &byA, a, ""); err != nil {
			t.Fatal(err)
		}
		byCode := Flow{User: "bob", Invitee: "bob", InvitedAt: time.Now().UnixNano()}
		earlier := byA
		earlier.InviteID = ""
		for name, f := range map[string]*Flow{"A's": &byA, "a recovery code's": &byCode, "the release before's": &earlier} {
			ok, err := s.inviteStands(ctx, "r", "bob", f)
			if err != nil || !ok {
				t.Fatalf("%s flow, before B: %v, %v", name, ok, err)
			}
		}
		time.Sleep(time.Millisecond)
		b, err := adm.NewInvite(ctx, "r", "bob", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.InviteFor(ctx, "r", b, ""); err != nil {
			t.Errorf("B: %v", err)
		}
		for name, f := range map[string]*Flow{"A's": &byA, "a recovery code's": &byCode, "the release before's": &earlier} {
			sends, err := s.inviteStands(ctx, "r", "bob", f)
			completes, err2 := s.acceptedStands(ctx, "r", "bob", f)
			if err != nil || err2 != nil {
				t.Fatal(err, err2)
			}
			if want := name != "A's"; sends != want || completes != want {
				t.Errorf("%s flow, B minted since: a send may go %v, the enrollment complete %v; want %v", name, sends, completes, want)
			}
		}
	})
}
