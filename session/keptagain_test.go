package session

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
)

// TestARemovalAskedAgainKeepsWhatTheFirstKept, on Badger and a real
// Redis: alice, signed in with a code of the set her lost phone's session
// made, removes the phone (her session kept: the end's Keep); then the
// same removal is asked again, by the admin (no session), by another
// session of hers, and by her own. Her session stays at a gate that
// checked it before (the revocation log) and at one that knows only the
// store; the thief's recovery session of that set stays ended. (Before:
// the second end was written without Keep, and her session was ended
// with the listed ones: signed out by the admin's re-removal.) Never
// wider: where the first removal kept nothing (the admin's), a later one
// asked by her recovery session keeps nothing either.
func TestARemovalAskedAgainKeepsWhatTheFirstKept(t *testing.T) {
	t.Parallel()
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			a, b := gatesOn(t, st, &now)
			issue := func(user, device string, amr factor.AMR) (string, *Claims) {
				t.Helper()
				tok, _, err := a.IssueBegun(ctx, Began{}, user, []factor.AMR{amr}, Where{Device: &device})
				if err != nil {
					t.Fatal(err)
				}
				cl, err := a.Verify(tok)
				if err != nil {
					t.Fatal(err)
				}
				return tok, cl
			}
			hersTok, hers := issue("alice", "lost", factor.AMRRecovery)
			thiefsTok, _ := issue("alice", "lost", factor.AMRRecovery)
			_, other := issue("alice", "new", factor.AMRSMS)
			for _, tok := range []string{hersTok, thiefsTok} {
				if b.Check(ctx, tok) == nil {
					t.Fatal("a session refused before the removal")
				}
			}
			for _, again := range []struct {
				by   string
				keep *Claims
			}{{"her", hers}, {"the admin", nil}, {"her other session", other}, {"her again", hers}} {
				now = now.Add(time.Second)
				if err := EndDevice(ctx, st, "example.com", "alice", "lost", again.keep, now); err != nil {
					t.Fatal(err)
				}
				now = now.Add(RevocationPoll)
				_, fresh := gatesOn(t, st, &now)
				for _, m := range []*Manager{b, fresh} {
					if m.Check(ctx, hersTok) == nil {
						t.Errorf("removed by %s: her recovery session, kept by the first removal, ended", again.by)
					}
					if m.Check(ctx, thiefsTok) != nil {
						t.Errorf("removed by %s: the thief's recovery session is live", again.by)
					}
				}
			}

			// Never wider: the admin first (nothing kept), then hers.
			hersTok, hers = issue("bob", "lost", factor.AMRRecovery)
			now = now.Add(time.Second)
			for _, keep := range []*Claims{nil, hers} {
				if err := EndDevice(ctx, st, "example.com", "bob", "lost", keep, now); err != nil {
					t.Fatal(err)
				}
				now = now.Add(RevocationPoll)
			}
			_, fresh := gatesOn(t, st, &now)
			if b.Check(ctx, hersTok) != nil || fresh.Check(ctx, hersTok) != nil {
				t.Error("a removal asked again kept a session the first removal ended")
			}
			raw, err := st.Get(ctx, endkeys.Device("example.com", "bob", "lost"))
			var e deviceEnd
			if err != nil || json.Unmarshal(raw, &e) != nil || e.Keep != "" || !e.At.Equal(now.Add(-RevocationPoll)) {
				t.Errorf("the end asked again: %s, %v; want the later removal's, keeping nothing", raw, err)
			}
		})
	}
}
