package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/factor"
)

// TestEndUnlistedEndsTheTrustsListedSessions: an intruder's trusted
// browser signs in MaxListed+1 times, pushing its first session off the
// list; the admin's end-unlisted ends that one, the trust it came from,
// and every session of that trust still listed (before: 20 of its 21
// sessions stayed live for their lifetime), and its browser is no longer
// known (before, the sessions of the trust just ended were left out of the
// list it reads, so their browsers stayed known: 20 of 21).
func TestEndUnlistedEndsTheTrustsListedSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	if w, _, err := continuity.Open(ctx, st, continuity.Options{Now: func() time.Time { return now }}); err != nil || w == nil {
		t.Fatal(err) // the store's epoch: browsers signed in since are known
	}
	_, tb, err := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "thief"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var thief, sids []string
	for range MaxListed + 1 {
		now = now.Add(time.Second)
		tok, sid, err := m.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID})
		if err != nil {
			t.Fatal(err)
		}
		thief, sids = append(thief, tok), append(sids, sid)
	}
	now = now.Add(time.Second)
	if known, err := StillKnown(ctx, st, "example.com", "alice", sids[MaxListed], "", "", now.Add(-time.Second)); err != nil || !known {
		t.Fatalf("the trust's last browser is not known before end-unlisted: %v, %v", known, err)
	}
	if u, err := EndUnlisted(ctx, st, "example.com", "alice", now); err != nil || u.Count == 0 {
		t.Fatalf("end-unlisted: %+v, %v", u, err)
	}
	m.FlushCache()
	for i, tok := range thief {
		if m.Uncached(ctx, tok) != nil {
			t.Errorf("the trust's session %d is live after end-unlisted", i)
		}
		// Signed in after the one pushed out, it is not ended by the
		// revocation until then: its browser is a stranger's again only by
		// the end's mark (StillKnown).
		if known, err := StillKnown(ctx, st, "example.com", "alice", sids[i], "", "", now.Add(-time.Duration(len(thief)-i)*time.Second)); err != nil || known {
			t.Errorf("the browser of the trust's session %d is still known after end-unlisted: %v, %v", i, known, err)
		}
	}
	if list, err := Sessions(ctx, st, "example.com", "alice", now); err != nil || len(list) != 0 {
		t.Errorf("listed after end-unlisted: %d, %v", len(list), err)
	}
}
