package admin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAStoppedCaddysEndOfAnExpiredSignedOutSessionEndsItsInvites
// (expiry40, attack39c F1): mallory (an admin, session lifetime 1h) signed
// in two hours ago, minted at the console an invite for mal, and signed
// out five minutes later; her session's end record went with its expiry,
// an hour ago (removed here: the store's TTL is real time, and her clock
// ran two hours back). mal's link is still open. With Caddy stopped, the
// CLI on the store (end-session: the op as the CLI runs it, no session
// lifetime known) ends the session's invites by its SID: mal's link is
// withdrawn. On Badger and Redis. (Before, the CLI knew no lifetime and
// found no end record: "no such session", and the link lived on.)
func TestAStoppedCaddysEndOfAnExpiredSignedOutSessionEndsItsInvites(t *testing.T) {
	t.Parallel()
	const realm = "example.com"
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		then := time.Now().Add(-2 * time.Hour)
		m, err := session.NewManager(ctx, session.Config{Store: st, Realm: realm, Lifetime: time.Hour, Now: func() time.Time { return then }})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := m.IssueBegun(ctx, session.Began{}, "mallory", []factor.AMR{factor.AMRSMS}, session.Where{})
		if err != nil {
			t.Fatal(err)
		}
		cl := m.Check(ctx, tok)
		if cl == nil {
			t.Fatal("her session does not check")
		}
		// The CLI's own, as on a stopped Caddy (direct): the wall clock.
		_, _, svc := enrollment.New(&enrollment.Core{Store: st, Now: time.Now, Announce: session.AnnounceEnd}, enrollment.Challenges{})
		if _, err := adminOp(ctx, svc, nil, nil, "/.smsgate/", "", "invites", Request{Realm: realm, User: "mal", From: session.MintedFrom(cl), by: "mallory"}); err != nil {
			t.Fatal(err)
		}
		then = then.Add(5 * time.Minute)
		if _, err := m.Revoke(ctx, tok, cl); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, endkeys.Session(realm, cl.SID)); err != nil {
			t.Fatal(err)
		}
		withdrawn := func() bool {
			raw, err := st.Get(ctx, endkeys.LatestInvite(realm, "mal"))
			var latest struct{ ID string }
			return err == nil && json.Unmarshal(raw, &latest) == nil && latest.ID == endkeys.Withdrawn
		}
		if withdrawn() {
			t.Fatal("mal's link ended with the sign-out")
		}

		out, err := adminOp(ctx, svc, nil, zap.NewNop(), "/.smsgate/", "", "sessions/end", Request{Realm: realm, User: "mallory", ID: cl.SID})
		if err != nil {
			t.Fatalf("the CLI's end of her signed-out session, expired: %v", err)
		}
		if got, _ := out.(map[string]any); got["invites_ended"] != "1" {
			t.Errorf("the CLI's end of her signed-out session: %v, want invites_ended 1", out)
		}
		if !withdrawn() {
			t.Error("mal's link is still open after the CLI's end of the session that minted it")
		}
	})
}
