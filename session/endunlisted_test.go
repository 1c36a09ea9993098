package session

import (
	"context"
	"testing"
	"time"
)

// TestEndUnlistedEndsTheTrustsListedSessions: an intruder's trusted
// browser signs in MaxListed+1 times, pushing its first session off the
// list; the admin's end-unlisted ends that one, the trust it came from,
// and every session of that trust still listed (before: 20 of its 21
// sessions stayed live for their lifetime).
func TestEndUnlistedEndsTheTrustsListedSessions(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	_, tb, err := m.Trust(ctx, Began{}, "alice", "", "", "thief", []string{"sms"}, now.Unix(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var thief []string
	for range MaxListed + 1 {
		now = now.Add(time.Second)
		tok, _, err := m.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID})
		if err != nil {
			t.Fatal(err)
		}
		thief = append(thief, tok)
	}
	now = now.Add(time.Second)
	if u, err := EndUnlisted(ctx, st, "example.com", "alice", now); err != nil || u.Count == 0 {
		t.Fatalf("end-unlisted: %+v, %v", u, err)
	}
	m.FlushCache()
	for i, tok := range thief {
		if m.Uncached(ctx, tok) != nil {
			t.Errorf("the trust's session %d is live after end-unlisted", i)
		}
	}
	if list, err := Sessions(ctx, st, "example.com", "alice", now); err != nil || len(list) != 0 {
		t.Errorf("listed after end-unlisted: %d, %v", len(list), err)
	}
}
