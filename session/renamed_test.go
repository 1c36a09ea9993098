package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestWhatThisReleaseIssuesIsMarked: every session and trust this release
// makes is marked as issued since the cookies were renamed, in the token
// itself (a trust in its record), whatever the store holds: a store with
// the record a release between kept of when the renaming happened
// ("cookies/renamed", here one no release could read) opens as any other.
// A session a release before issued (no mark) verifies still; with the
// record unreadable, no unmarked token is from before the renaming.
func TestWhatThisReleaseIssuesIsMarked(t *testing.T) {
	ctx := context.Background()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	if err := st.Put(ctx, "cookies/renamed", []byte("unreadable"), 0); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("a store with a renaming record: %v", err)
	}
	awaitingPolls(m)
	token, err := m.Issue(ctx, "alice", []string{"sms"}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	trusted, _, err := m.IssueTrusted(ctx, Began{}, "alice", madeTrust(t, m, "alice", []string{"sms"}, now.Unix()), Where{})
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
	trust, tb, err := m.Trust(ctx, Began{}, "alice", "", "known", "Firefox on Linux", []string{"sms"}, now.Unix(), time.Hour)
	if err != nil || tb.Unmarked() {
		t.Fatalf("a trust earned now: %+v %v, want marked", tb, err)
	}
	if _, listed, err := m.Trusted(ctx, trust); err != nil || listed.Unmarked() {
		t.Fatalf("a trust earned now, as the store keeps it: %+v %v, want marked", listed, err)
	}

	// A session from a release before the renaming: the same claims, unmarked.
	old := Claims{RegisteredClaims: m.keys.NewClaims("example.com", "alice", time.Hour), AMR: []string{"sms"}, SID: "before", AuthTime: now.Unix()}
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
// instant, or if the store holds no record; a marked one never is. The
// record is read, not written.
func TestTheRenamedRecordDecidesUnmarkedTokens(t *testing.T) {
	ctx := context.Background()
	renamed := time.Date(2026, 12, 1, 10, 0, 0, 500_000_000, time.UTC)
	for _, record := range []bool{false, true} {
		st, closeDB, err := store.OpenBadger(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer closeDB()
		if record {
			if err := st.Put(ctx, "cookies/renamed", []byte(renamed.Format(time.RFC3339Nano)), 0); err != nil {
				t.Fatal(err)
			}
		}
		m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return renamed }})
		if err != nil {
			t.Fatal(err)
		}
		awaitingPolls(m)
		for _, c := range []struct {
			at     time.Time
			marked bool
			want   bool
		}{
			{renamed.Add(-time.Second), false, true},
			{renamed, false, !record}, // whole seconds: 10:00:00 is not before 10:00:00.5 truncated
			{renamed.Add(time.Minute), false, !record},
			{renamed.Add(-time.Minute), true, false},
		} {
			cl := &Claims{RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(c.at)}, Prefixed: c.marked}
			if got := m.IssuedBeforeRename(cl); got != c.want {
				t.Errorf("record %v: a token issued at %s (marked %v) before the renaming: %v, want %v", record, c.at, c.marked, got, c.want)
			}
			tb := &TrustedBrowser{Created: c.at, Prefixed: c.marked}
			if got := m.EarnedBeforeRename(tb); got != c.want {
				t.Errorf("record %v: a trust made at %s (marked %v) before the renaming: %v, want %v", record, c.at, c.marked, got, c.want)
			}
		}
		if _, err := st.Get(ctx, "cookies/renamed"); record == errors.Is(err, store.ErrNotFound) {
			t.Errorf("record %v: the store's record after opening: %v", record, err)
		}
	}
}
