package session

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
)

// TestAnnounceEndReachesAnotherInstance: the ends an import writes
// (enrollment.Core.Announce) reach another instance's cache through the
// revocation log within RevocationPoll, as a logout's or a revoke's do: a
// session's end and a user's revocation, each by its record's key as the
// store holds it; another session stays cached, and a key that is no end
// announces nothing.
func TestAnnounceEndReachesAnotherInstance(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, st := twoGates(t, &now)
	toks := signedIn(t, a, b, 3)
	elsewhere := &flaky{Store: st.Store} // another instance's store: not applied here at once
	before, _ := st.Get(ctx, RevocationCounter)
	if err := AnnounceEnd(ctx, elsewhere, "device/example.com/user2", []byte(`[]`)); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Get(ctx, RevocationCounter); string(n) != string(before) {
		t.Fatalf("a record that is no end was announced: counter %q, was %q", n, before)
	}
	cl, _ := b.Cached(ctx, toks[0])
	if cl == nil {
		t.Fatal("session 0 not cached")
	}
	at, _ := json.Marshal(now)
	if err := AnnounceEnd(ctx, elsewhere, endkeys.Session("example.com", cl.SID), []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := AnnounceEnd(ctx, elsewhere, endkeys.User("example.com", "user1"), at); err != nil {
		t.Fatal(err)
	}
	now = now.Add(RevocationPoll)
	b.Check(ctx, toks[2]) // the poll reads the news
	for i, tok := range toks {
		if cl, _ := b.Cached(ctx, tok); (cl != nil) != (i == 2) {
			t.Errorf("session %d cached = %v after the announcement", i, cl != nil)
		}
	}
}
