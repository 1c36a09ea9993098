package session

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
)

// TestAnInvitesEntryCarriesItsSessionsOwnExpiry (expiry40), on Badger
// and a real Redis: two gates of one realm, session lifetimes 12h and 1h.
// alice signs in at the long gate (S1) and mints at the short gate's
// console: the entry carries S1's own expiry (12h on, not the short
// gate's cap of it). A step-up at the long gate 3h on (S2) moves it, with
// S2's expiry. Pushed off her list of sessions (as past 20 listed), S2 is
// still live at the long gate: 5h on, the short gate's listing (and the
// CLI's, no lifetime) must not take it for signed out, though S1 was
// signed past the short gate's lifetime. Once S2 has expired (15h on),
// both list it as expired, and SignedOutWith says so.
func TestAnInvitesEntryCarriesItsSessionsOwnExpiry(t *testing.T) {
	t.Parallel()
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, realm := context.Background(), "example.com"
			t0 := time.Now().UTC().Truncate(time.Second)
			now := t0
			clock := func() time.Time { return now }
			gate := func(lifetime time.Duration) *Manager {
				m, err := NewManager(ctx, Config{Store: st, Realm: realm, Lifetime: lifetime, Now: clock})
				if err != nil {
					t.Fatal(err)
				}
				return awaitingPolls(m)
			}
			long, short := gate(12*time.Hour), gate(time.Hour)
			tok1, _, err := long.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			if err != nil {
				t.Fatal(err)
			}
			cl1 := short.Check(ctx, tok1)
			if cl1 == nil {
				t.Fatal("S1 does not check at the short gate")
			}
			from := MintedFrom(cl1)
			if want := t0.Add(12 * time.Hour); !from.Expires.Equal(want) {
				t.Fatalf("the entry's expiry: %s, want S1's own, %s (the short gate capped it to %s)", from.Expires, want, cl1.ExpiresAt.Time)
			}
			mint := endkeys.Minted{User: "mal", ID: "id-mal", Expires: t0.Add(7 * 24 * time.Hour), Made: t0, From: from}
			put := func(key string, v any) {
				raw, _ := json.Marshal(v)
				if err := st.Put(ctx, key, raw, 7*24*time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			put(endkeys.LatestInvite(realm, "mal"), map[string]string{"id": mint.ID})
			put(endkeys.Invite(realm, mint.ID), map[string]string{})
			put(endkeys.MintedInvites(realm, "alice"), []endkeys.Minted{mint})

			now = t0.Add(3 * time.Hour)
			_, sid2, err := long.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			if err != nil {
				t.Fatal(err)
			}
			if err := MoveMinted(ctx, st, realm, "alice", cl1.SID, sid2, now); err != nil {
				t.Fatal(err)
			}
			list, err := mintedIndex(ctx, st, realm, "alice")
			if err != nil || len(list) != 1 || list[0].From.SID != sid2 || !list[0].From.Expires.Equal(now.Add(12*time.Hour)) {
				t.Fatalf("the moved entry: %+v (%v), want S2 with its expiry %s", list, err, now.Add(12*time.Hour))
			}

			if err := st.Delete(ctx, sessionsKey(realm, "alice")); err != nil { // pushed off, as past MaxListed
				t.Fatal(err)
			}
			for _, at := range []struct {
				after time.Duration
				over  bool
			}{{5 * time.Hour, false}, {15 * time.Hour, true}} {
				now = t0.Add(at.after)
				for _, lifetime := range []time.Duration{time.Hour, 0} {
					out, err := SignedOutMinted(ctx, st, realm, "alice", now, lifetime)
					was, errWith := SignedOutWith(ctx, st, realm, "alice", sid2, now, lifetime)
					listed := len(out) == 1 && out[0].SID == sid2 && out[0].Open == 1 && out[0].Expired
					if err != nil || errWith != nil || listed != at.over || len(out) > 1 || was != at.over {
						t.Errorf("%s on, lifetime %s: listed %+v (%v), SignedOutWith %v (%v); want signed out: %v (S2 expires 15h on)",
							at.after, lifetime, out, err, was, errWith, at.over)
					}
				}
			}
		})
	}
}
