package session

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestSignedOutSessionsAreTheEndedOnesWithOpenInvites, on Badger and a
// real Redis (logout39): alice, an admin, minted invites in four
// sessions: one signed out (its own revocation record), one live, one
// signed two hours ago with the gate's lifetime one hour (over, its
// revocation gone or never written), one signed out whose invite was used
// since. SignedOutMinted lists the first, then the third (Expired), each
// with its one open invite, and the third only where the lifetime is
// known; SignedOutWith says so of each by its SID, and of no other.
func TestSignedOutSessionsAreTheEndedOnesWithOpenInvites(t *testing.T) {
	t.Parallel()
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, realm := context.Background(), "example.com"
			now := time.Now().Truncate(time.Second)
			minted := func(user, sid string, issued time.Time) endkeys.Minted {
				return endkeys.Minted{User: user, ID: "id-" + user, Expires: now.Add(time.Hour), Made: now.Add(-time.Minute), From: &endkeys.MintedFrom{SID: sid, Issued: issued}}
			}
			used := minted("pat", "s-used", now.Add(-20*time.Minute))
			putMinted(t, st, realm, "alice", minted("mal", "s-out", now.Add(-10*time.Minute)), minted("ned", "s-live", now.Add(-5*time.Minute)),
				minted("oli", "s-old", now.Add(-2*time.Hour)), used)
			putJSON(t, st, endkeys.Session(realm, "s-out"), "announced")
			putJSON(t, st, endkeys.Session(realm, "s-used"), "announced")
			putJSON(t, st, endkeys.InviteSpent(realm, "pat", used.Made.UnixNano()), 1)

			for _, lifetime := range []time.Duration{time.Hour, 0} {
				got, err := SignedOutMinted(ctx, st, realm, "alice", now, lifetime)
				if err != nil {
					t.Fatal(err)
				}
				want := []SignedOut{{SID: "s-out", Issued: now.Add(-10 * time.Minute), Open: 1}}
				if lifetime > 0 {
					want = append(want, SignedOut{SID: "s-old", Issued: now.Add(-2 * time.Hour), Open: 1, Expired: true})
				}
				if len(got) != len(want) {
					t.Fatalf("lifetime %s: listed %+v, want %+v", lifetime, got, want)
				}
				for i := range want {
					if got[i].SID != want[i].SID || !got[i].Issued.Equal(want[i].Issued) || got[i].Open != want[i].Open || got[i].Expired != want[i].Expired {
						t.Errorf("lifetime %s: listed %+v, want %+v", lifetime, got, want)
					}
				}
				for sid, was := range map[string]bool{"s-out": true, "s-live": false, "s-old": lifetime > 0, "s-used": true, "s-none": false} {
					if got, err := SignedOutWith(ctx, st, realm, "alice", sid, now, lifetime); err != nil || got != was {
						t.Errorf("lifetime %s: SignedOutWith(%s) = %v, %v; want %v", lifetime, sid, got, err, was)
					}
				}
			}
			if got, err := SignedOutMinted(ctx, st, realm, "bob", now, time.Hour); err != nil || got != nil {
				t.Errorf("bob, who minted none: %+v, %v", got, err)
			}
		})
	}
}

// putJSON writes v to st under key, as JSON, for a week.
func putJSON(t *testing.T, st store.Store, key string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, raw, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
}

// putMinted writes the invites list as minter minted them in realm: each
// one's latest-invite and invite records, and minter's index of them.
func putMinted(t *testing.T, st store.Store, realm, minter string, list ...endkeys.Minted) {
	t.Helper()
	for _, m := range list {
		putJSON(t, st, endkeys.LatestInvite(realm, m.User), map[string]string{"id": m.ID})
		putJSON(t, st, endkeys.Invite(realm, m.ID), map[string]string{})
	}
	putJSON(t, st, endkeys.MintedInvites(realm, minter), list)
}
