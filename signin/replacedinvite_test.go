package signin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAReplacedSessionsInvitesEndWithIt (review38 F1), on Badger and a
// real Redis: her browser's code session, a copy of whose cookie is a
// thief's, who minted mal's invite in it; her step-up in that browser
// replaces it (session.Manager.Replaced). mal's invite ends with it;
// ned's, minted in another of her sessions, stays. (Before, the replaced
// session left her list with its invite live, which the admin's end of
// that session no longer reached: ErrNoSession.)
func TestAReplacedSessionsInvitesEndWithIt(t *testing.T) {
	storetest.OnBadgerAndRedis(t, func(t *testing.T, inner store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, inner, false)
		amr := []factor.AMR{factor.AMRSMS}
		oldTok, oldSID, err := r.m.IssueBegun(ctx, session.Began{}, "mallory", amr, session.Where{Browser: "Edge"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		list := []endkeys.Minted{
			{User: "mal", ID: "mal-invite", Expires: now.Add(24 * time.Hour), Made: now, From: &endkeys.MintedFrom{SID: oldSID, Issued: now}},
			{User: "ned", ID: "ned-invite", Expires: now.Add(24 * time.Hour), Made: now, From: &endkeys.MintedFrom{SID: r.ownSID, Issued: now}},
		}
		raw, _ := json.Marshal(list)
		if err := inner.Put(ctx, endkeys.MintedInvites("r", "mallory"), raw, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		_, newSID, err := r.m.IssueBegun(ctx, session.Began{}, "mallory", amr, session.Where{Browser: "Edge"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.m.Replaced(ctx, oldTok, newSID)
		if err != nil {
			t.Fatal(err)
		}
		if got.User != "mallory" || got.SID != oldSID || got.Minted.Ended != 1 {
			t.Errorf("Replaced answered %+v; want mallory's %s ended, with 1 invite", got, oldSID)
		}
		if !r.withdrawn(t, "mal") || r.withdrawn(t, "ned") {
			t.Errorf("mal's invite ended %v, ned's %v; want mal's (minted in the replaced session) only", r.withdrawn(t, "mal"), r.withdrawn(t, "ned"))
		}
		if r.m.Uncached(ctx, oldTok) != nil {
			t.Error("the replaced session is live")
		}
		// Asked again (a replayed cookie): nothing more ended, nothing told.
		if again, err := r.m.Replaced(ctx, oldTok, newSID); err != nil || again.User != "" || again.Minted.Ended != 0 {
			t.Errorf("Replaced asked again: %+v, %v; want nothing", again, err)
		}
	})
}
