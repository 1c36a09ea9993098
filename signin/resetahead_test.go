package signin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// The invite side of a revoke's cap: a reset where a gate an hour ahead
// pushed one of bob's sessions off his list, then an invite minted on
// time a minute later: it works (review30: the record an hour ahead made
// every invite minted in that hour dead). Failed without the cap (checked).
func TestAnInviteMintedAfterAResetBesideAGateAheadWorks(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := newServiceOn(st, LoginForm{})
		s.Revoked = session.ReadRevoked
		real := time.Now()
		raw, _ := json.Marshal(session.Unlisted{Count: 1, Through: real.Add(time.Hour), Expires: real.Add(2 * time.Hour)})
		if err := st.Put(ctx, store.Key("sessions-unlisted", "r", "bob"), raw, 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := session.RevokeUser(ctx, st, "r", "bob", real, nil); err != nil {
			t.Fatal(err)
		}
		real = real.Add(time.Minute)
		tok, err := gateAt(st, &real, 0).NewInvite(ctx, "r", "bob", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.InviteFor(ctx, "r", tok, ""); err != nil {
			t.Errorf("an invite minted a minute after the reset, on time: %v; want it standing", err)
		}
	})
}
