package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestWhatThisReleaseIssuesIsMarked: every session and trust this release
// makes is marked as issued since the cookies were renamed, in the token
// itself (a trust in its record), whatever the store holds: a store with
// the record a release between kept of when the renaming happened
// ("cookies/renamed", here one no release could read) opens as any other,
// and moves nothing. A session a release before issued (no mark) verifies
// still, and is from before the renaming.
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
	trusted, _, err := m.IssueTrusted(ctx, Began{}, "alice", &TrustedBrowser{AMR: []string{"sms"}, AuthTime: now.Unix()}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{token, trusted} {
		if cl, err := m.Verify(token); err != nil || cl.BeforeRename() {
			t.Fatalf("a session issued now: %+v %v, want marked", cl, err)
		}
		m.FlushCache()
		if cl := m.Check(ctx, token); cl == nil || cl.BeforeRename() {
			t.Fatalf("a session issued now, checked: %+v, want marked", cl)
		}
	}
	trust, tb, err := m.Trust(ctx, Began{}, "alice", "", "known", "Firefox on Linux", []string{"sms"}, now.Unix(), time.Hour)
	if err != nil || tb.BeforeRename() {
		t.Fatalf("a trust earned now: %+v %v, want marked", tb, err)
	}
	if _, listed, err := m.Trusted(ctx, trust); err != nil || listed.BeforeRename() {
		t.Fatalf("a trust earned now, as the store keeps it: %+v %v, want marked", listed, err)
	}

	// A session from a release before the renaming: the same claims, unmarked.
	old := Claims{RegisteredClaims: m.keys.NewClaims("example.com", "alice", time.Hour), AMR: []string{"sms"}, SID: "before", AuthTime: now.Unix()}
	oldToken, err := m.keys.Sign(&old)
	if err != nil {
		t.Fatal(err)
	}
	if cl := m.Check(ctx, oldToken); cl == nil || !cl.BeforeRename() {
		t.Fatalf("a session a release before issued: %+v, want it checked and unmarked", cl)
	}
}
