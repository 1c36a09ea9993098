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

// TestAReplacedSessionsInvitesGoWithItsBrowser (review38 F1; lead, on
// merge), on Badger and a real Redis: her browser's code session, a copy
// of whose cookie is a thief's, who minted mal's invite in it. Her
// step-up in that browser replaces it (Ends.EndReplaced): mal's
// invite stays, now named by the new session, so the admin's end of the
// session her list shows ends it; ned's, minted in another of her
// sessions, stays through both. Another user's sign-in in that browser (a
// shared computer) ends what was minted in the session it replaced.
// (Before review38, the replaced session left her list with its invite
// live, which no end reached; fixr38 ended it at every step-up, an honest
// admin's too.)
func TestAReplacedSessionsInvitesGoWithItsBrowser(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, inner store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, inner, false)
		amr := []factor.AMR{factor.AMRSMS}
		issue := func(user string) (string, string) {
			tok, sid, err := r.m.IssueBegun(ctx, session.Began{}, user, amr, session.Where{Browser: "Edge"})
			if err != nil {
				t.Fatal(err)
			}
			return tok, sid
		}
		mint := func(sid string) {
			now := time.Now().UTC()
			list := []endkeys.Minted{
				{User: "mal", ID: "mal-invite", Expires: now.Add(24 * time.Hour), Made: now, From: &endkeys.MintedFrom{SID: sid, Issued: now}},
				{User: "ned", ID: "ned-invite", Expires: now.Add(24 * time.Hour), Made: now, From: &endkeys.MintedFrom{SID: r.ownSID, Issued: now}},
			}
			raw, _ := json.Marshal(list)
			if err := inner.Put(ctx, endkeys.MintedInvites("r", "mallory"), raw, 24*time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		oldTok, oldSID := issue("mallory")
		mint(oldSID)
		_, newSID := issue("mallory")
		got, err := r.ends.EndReplaced(ctx, oldTok, "mallory", newSID)
		if err != nil {
			t.Fatal(err)
		}
		if got.User != "mallory" || got.SID != oldSID || got.Minted.Ended != 0 {
			t.Errorf("Replaced answered %+v; want mallory's %s ended, no invite", got, oldSID)
		}
		if r.withdrawn(t, "mal") || r.withdrawn(t, "ned") {
			t.Fatal("an invite ended at her own step-up")
		}
		if r.m.Uncached(ctx, oldTok) != nil {
			t.Error("the replaced session is live")
		}
		// The admin ends the session her list shows: what the old one minted ends with it.
		ended, err := session.EndMintedOf(ctx, inner, "r", "mallory", time.Now(), nil, session.MintedIn(newSID, ""))
		if err != nil || ended.Ended != 1 || !r.withdrawn(t, "mal") || r.withdrawn(t, "ned") {
			t.Errorf("the end of the new session ended %+v (%v), mal's %v, ned's %v; want mal's only", ended, err, r.withdrawn(t, "mal"), r.withdrawn(t, "ned"))
		}
		// Asked again (a replayed cookie): nothing more ended, nothing told.
		if again, err := r.ends.EndReplaced(ctx, oldTok, "mallory", newSID); err != nil || again.User != "" || again.Minted.Ended != 0 {
			t.Errorf("Replaced asked again: %+v, %v; want nothing", again, err)
		}

		// Another user's sign-in in the browser: what mallory's session there minted ends.
		r2 := newEndsRig(t, inner, false)
		r = r2
		sharedTok, sharedSID := issue("mallory")
		mint(sharedSID)
		_, aliceSID := issue("alice")
		got, err = r.ends.EndReplaced(ctx, sharedTok, "alice", aliceSID)
		if err != nil || got.User != "mallory" || got.Minted.Ended != 1 || !r.withdrawn(t, "mal") || r.withdrawn(t, "ned") {
			t.Errorf("alice's sign-in over mallory's session: %+v (%v), mal's %v, ned's %v; want mal's ended only", got, err, r.withdrawn(t, "mal"), r.withdrawn(t, "ned"))
		}
	})
}
