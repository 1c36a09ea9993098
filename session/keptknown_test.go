package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/factor"
)

// TestAKeptRecoverySessionsBrowserStaysKnown: alice, signed in with a
// recovery code of the set her lost phone's session made (her session
// names the phone), removes the phone; her session stays (the end's
// Keep), and so must her browser's known-ness: its cookie names the same
// session and phone. The thief's recovery session of that set, and his
// browser, end. (Before, final read: StillKnown read the end without its
// Keep, and her browser was a stranger's again.)
func TestAKeptRecoverySessionsBrowserStaysKnown(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	if w, _, err := continuity.Open(ctx, st, continuity.Options{Now: func() time.Time { return now }}); err != nil || w == nil {
		t.Fatal(err)
	}
	lost := "lost"
	signIn := func() *Claims {
		t.Helper()
		tok, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRRecovery}, Where{Device: &lost})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := m.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	hers, thiefs := signIn(), signIn()
	now = now.Add(time.Second)
	if err := EndDevice(ctx, st, "example.com", "alice", lost, hers, now); err != nil {
		t.Fatal(err)
	}
	if known, err := StillKnown(ctx, st, "example.com", "alice", hers.SID, "", lost, hers.IssuedAt.Time); err != nil || !known {
		t.Errorf("her browser, whose session the removal kept, is known no more: %v, %v", known, err)
	}
	if known, err := StillKnown(ctx, st, "example.com", "alice", thiefs.SID, "", lost, thiefs.IssuedAt.Time); err != nil || known {
		t.Errorf("the thief's browser is still known: %v, %v", known, err)
	}
}
