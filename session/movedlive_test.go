package session

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
)

// TestAMovedInviteLeavesALiveSessionNotSignedOut (attack39c F2): alice
// (an admin, lifetime 1h) minted an invite in S1 at 10:00, stepped up at
// 10:50 (S2, MoveMinted S1->S2, S1 revoked as the sign-in's replacement).
// At 11:05 S2 is live (in her list) though the moved entry kept S1's
// Issued: neither SignedOutMinted nor SignedOutWith may take it for a
// session that ended by its lifetime. Badger and Redis.
func TestAMovedInviteLeavesALiveSessionNotSignedOut(t *testing.T) {
	t.Parallel()
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, realm := context.Background(), "example.com"
			now := time.Now().Truncate(time.Second)
			clock := func() time.Time { return now }
			m, err := NewManager(ctx, Config{Store: st, Realm: realm, Lifetime: time.Hour, Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			awaitingPolls(m)
			issue := func() (string, *Claims) {
				tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
				if err != nil {
					t.Fatal(err)
				}
				cl, err := m.Verify(tok)
				if err != nil {
					t.Fatal(err)
				}
				return tok, cl
			}
			tok1, s1 := issue()
			mint := endkeys.Minted{User: "mal", ID: "id-mal", Expires: now.Add(7 * 24 * time.Hour), Made: now, From: &endkeys.MintedFrom{SID: s1.SID, Issued: s1.IssuedAt.Time}}
			putMinted(t, st, realm, "alice", mint)
			now = now.Add(50 * time.Minute)
			_, s2 := issue()
			if err := MoveMinted(ctx, st, realm, "alice", s1.SID, s2.SID, now); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Revoke(ctx, tok1, s1); err != nil {
				t.Fatal(err)
			}
			now = now.Add(15 * time.Minute)
			live, err := Sessions(ctx, st, realm, "alice", now)
			if err != nil || !slices.ContainsFunc(live, func(s Info) bool { return s.SID == s2.SID }) {
				t.Fatalf("S2 not live: %+v %v", live, err)
			}
			out, err := SignedOutMinted(ctx, st, realm, "alice", now, time.Hour)
			was, _ := SignedOutWith(ctx, st, realm, "alice", s2.SID, now, time.Hour)
			if err != nil || len(out) != 0 || was {
				t.Errorf("her live session S2 listed as signed out: %+v (%v), SignedOutWith %v", out, err, was)
			}
		})
	}
}
