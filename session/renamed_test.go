package session

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestWhatThisReleaseIssuesIsMarked: every session and trust this release
// makes is marked as issued since the cookies were renamed, in the token
// itself (a trust in its record), whatever the store holds: a store with
// the record a release between kept of when the renaming happened
// ("cookies/renamed", here one no release could read) opens as any other.
// A session a release before issued (no mark) verifies still; with the
// record unreadable, no unmarked token is from before the renaming.
func TestWhatThisReleaseIssuesIsMarked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	if err := st.Put(ctx, "cookies/renamed", []byte("unreadable"), 0); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Remember: gatesRemember, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("a store with a renaming record: %v", err)
	}
	awaitingPolls(m)
	token, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	trusted, _, err := m.IssueTrusted(ctx, Began{}, "alice", madeTrust(t, m, "alice", []factor.AMR{factor.AMRSMS}, now.Unix()), Where{})
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{token, trusted} {
		if cl, err := m.Verify(token); err != nil || cl.Unmarked() {
			t.Fatalf("a session issued now: %+v %v, want marked", cl, err)
		}
		m.FlushCache()
		if cl := m.Check(ctx, token); cl == nil || cl.Unmarked() {
			t.Fatalf("a session issued now, checked: %+v, want marked", cl)
		}
	}
	trust, tb, err := m.TrustHeld(ctx, Began{}, "alice", "", "known", time.Time{}, Where{Browser: "Firefox", System: "Linux"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
	if err != nil || tb.Unmarked() {
		t.Fatalf("a trust earned now: %+v %v, want marked", tb, err)
	}
	if _, listed, err := m.Trusted(ctx, trust); err != nil || listed.Unmarked() {
		t.Fatalf("a trust earned now, as the store keeps it: %+v %v, want marked", listed, err)
	}

	// A session from a release before the renaming: the same claims, unmarked.
	old := Claims{RegisteredClaims: m.keys.NewClaims("example.com", "alice", time.Hour), AMR: []factor.AMR{factor.AMRSMS}, SID: "before", AuthTime: now.Unix()}
	oldToken, err := m.keys.Sign(&old)
	if err != nil {
		t.Fatal(err)
	}
	if cl := m.Check(ctx, oldToken); cl == nil || !cl.Unmarked() || m.IssuedBeforeRename(cl) {
		t.Fatalf("a session a release before issued: %+v, want it checked and unmarked, and not before an unreadable record", cl)
	}
}

// TestTheRenamedRecordDecidesUnmarkedTokens: the release between the
// renaming and the mark issued its tokens and trusts unmarked, and
// recorded when it first ran on the store ("cookies/renamed"): an
// unmarked token is from before the renaming only if issued before that
// instant; without the record, only if issued since the store's epoch
// began (or was frozen: continuity.Record.Trusted), for the record may
// have been lost with the store (a wipe, an eviction, a move) while the
// tokens outlived it (a configured signing_key); with no epoch either,
// none issued before now. A marked one never is. The record is read, not
// written.
func TestTheRenamedRecordDecidesUnmarkedTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	renamed := time.Date(2026, 12, 1, 10, 0, 0, 500_000_000, time.UTC)
	epoch := func(frozen bool) []byte {
		rec := continuity.Record{ID: "e1", Created: renamed.Add(-time.Hour)}
		if frozen {
			rec.Frozen = &continuity.Freeze{Since: renamed.Add(-30 * time.Minute), Reason: continuity.Evicted}
		}
		raw, _ := json.Marshal(rec)
		return raw
	}
	for _, c := range []struct {
		name  string
		store map[string][]byte
		since time.Time // the first instant an unmarked token counts from (zero: record)
	}{
		{"the record", map[string][]byte{"cookies/renamed": []byte(renamed.Format(time.RFC3339Nano)), continuity.Key: epoch(false)}, time.Time{}},
		{"no record, an epoch", map[string][]byte{continuity.Key: epoch(false)}, renamed.Add(-time.Hour)},
		{"no record, an epoch frozen for evictions", map[string][]byte{continuity.Key: epoch(true)}, renamed.Add(-30 * time.Minute)},
		{"no record, no epoch", nil, renamed},
	} {
		st := storetest.Badger(t)
		for k, v := range c.store {
			if err := st.Put(ctx, k, v, 0); err != nil {
				t.Fatal(err)
			}
		}
		m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return renamed }})
		if err != nil {
			t.Fatal(err)
		}
		awaitingPolls(m)
		record := c.since.IsZero()
		for _, tc := range []struct {
			at     time.Time
			marked bool
			want   bool
		}{
			{renamed.Add(-2 * time.Hour), false, false}, // before any epoch: maybe the release between's
			{renamed.Add(-45 * time.Minute), false, record || c.since.Before(renamed.Add(-45*time.Minute))},
			{renamed.Add(-time.Second), false, record || c.since.Before(renamed.Add(-time.Second))},
			// Whole seconds: 10:00:00 is not before 10:00:00.5 truncated,
			// nor known to be after 10:00:00.5.
			{renamed, false, !record && c.since.Before(renamed.Truncate(time.Second))},
			{renamed.Add(time.Minute), false, !record},
			{renamed.Add(-time.Minute), true, false},
			{renamed.Add(time.Minute), true, false},
		} {
			if record && tc.at.Before(renamed.Add(-time.Hour)) {
				tc.want = !tc.marked // the record alone decides
			}
			cl := &Claims{RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(tc.at)}, Prefixed: tc.marked}
			if got := m.IssuedBeforeRename(cl); got != tc.want {
				t.Errorf("%s: a token issued at %s (marked %v) before the renaming: %v, want %v", c.name, tc.at, tc.marked, got, tc.want)
			}
			if tc.at.Equal(renamed) && !tc.marked {
				tc.want = !record // a trust keeps its instant whole
			}
			tb := &TrustedBrowser{Created: tc.at, Prefixed: tc.marked}
			if got := m.EarnedBeforeRename(tb); got != tc.want {
				t.Errorf("%s: a trust made at %s (marked %v) before the renaming: %v, want %v", c.name, tc.at, tc.marked, got, tc.want)
			}
		}
		if _, err := st.Get(ctx, "cookies/renamed"); record == errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the store's record after opening: %v", c.name, err)
		}
	}
}

// TestAGateThatReadTheRenamedRecordPutsItBack: a store that loses the
// record (a wipe under a running gate, an eviction) gets it back, the same
// instant, from a gate that read it, when the gate hears the store changed
// (RereadRenamed at the next Reconcile): else, at the next start, the
// old-name cookies from before the renaming would count no more; and one
// that holds a later instant gets the gate's earlier one back.
func TestAGateThatReadTheRenamedRecordPutsItBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	renamed := []byte("2026-12-01T10:00:00.5Z")
	if err := st.Put(ctx, "cookies/renamed", renamed, 0); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Secret: []byte("a secret of thirty-two bytes, ok"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	awaitingPolls(m)
	before := &Claims{RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(now.Add(-48 * time.Hour))}}
	if err := st.Delete(ctx, "cookies/renamed"); err != nil {
		t.Fatal(err)
	}
	m.StoreChanged()
	if _, err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, "cookies/renamed"); err != nil || string(got) != string(renamed) {
		t.Fatalf("the store's record after the gate heard it changed: %q %v, want %q", got, err, renamed)
	}
	if !m.IssuedBeforeRename(before) {
		t.Fatal("a token from before the record's instant counts no more")
	}
	// A later instant written over it (an import of another store's
	// record, raced: enrollment's TestAnImportRacingAPutBackKeepsTheEarlier)
	// gives way to the gate's earlier one; before, the put-back wrote only
	// where there was none, and the later instant stood.
	if err := st.Put(ctx, "cookies/renamed", []byte("2026-12-01T12:00:00Z"), 0); err != nil {
		t.Fatal(err)
	}
	m.StoreChanged()
	if _, err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, "cookies/renamed"); err != nil || string(got) != string(renamed) {
		t.Fatalf("the store's record after a later one was written: %q %v, want %q", got, err, renamed)
	}
}
