package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/factor"
)

// TestEndStopsKnowingTheBrowsersOfTheTrustsUnlistedSessions: End ends a
// trust with every session of it, listed or pushed off the list (the
// trust's record), but marks as ended (StillKnown) only the listed ones:
// a browser whose last sign-in by the trust was pushed off the list by
// MaxListed newer ones (a copy of the trust cookie in a second browser,
// or a known-browser cookie kept from then) is still known after the
// admin ended the trust, with guess windows and send budgets of the
// owner's. Fixed: the known-browser cookie names the trust its session
// came from (Claims.Trust), and StillKnown reads the trust's record
// beside the session's mark (one round trip still). Before: known (true,
// <nil>), from 60ccfa8 until the fix. A cookie from before it named its
// trust is known as it was, by its session's mark alone.
func TestEndStopsKnowingTheBrowsersOfTheTrustsUnlistedSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	if w, _, err := continuity.Open(ctx, st, continuity.Options{Now: func() time.Time { return now }}); err != nil || w == nil {
		t.Fatal(err)
	}
	_, tb, err := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "thief"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	first := now
	_, old, err := m.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID})
	if err != nil {
		t.Fatal(err)
	}
	for range MaxListed { // the owner's sign-ins push it off the list
		now = now.Add(time.Second)
		if _, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{}); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Second)
	_, last, err := m.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if _, err := End(ctx, st, "example.com", "alice", last, now); err != nil {
		t.Fatal(err)
	}
	if known, err := StillKnown(ctx, st, "example.com", "alice", old, tb.ID, "", first); err != nil || known {
		t.Errorf("the browser of the ended trust's unlisted session is still known: %v, %v", known, err)
	}
	// A cookie of the release before, naming no trust: as it was.
	if known, err := StillKnown(ctx, st, "example.com", "alice", old, "", "", first); err != nil || !known {
		t.Errorf("a cookie naming no trust: %v, %v (want known, as before the claim)", known, err)
	}
}
