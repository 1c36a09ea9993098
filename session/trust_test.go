package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
)

// TestTrust: a trust token names its user and its record; it ends when its
// record goes (Untrust, UntrustAll), when the user's sessions are all
// revoked after it, and when it expires. No other token passes for one.
func TestTrust(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, st := newManager(t, "HS256", &now)
	token, _, err := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "Firefox", System: "Linux"}, "", []factor.AMR{factor.AMROTP}, now.Unix()-60, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	user, tb, err := m.Trusted(ctx, token)
	if err != nil || user != "alice" || tb.Browser != "Firefox" || tb.System != "Linux" || tb.AMR[0] != "otp" || tb.AuthTime != now.Unix()-60 {
		t.Fatalf("Trusted = %q, %+v, %v", user, tb, err)
	}
	// Its ID (what the admin's list of sessions, the devices page and the
	// audit log show) is a lookup key, not a credential: alone it is no trust.
	if _, _, err := m.Trusted(ctx, tb.ID); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("a trust's ID as its token: %v", err)
	}
	session, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if _, _, err := m.Trusted(ctx, session); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("a session token as a trust: %v", err)
	}
	if cl := m.Check(ctx, token); cl != nil {
		t.Fatal("a trust token as a session")
	}

	// Revoking every session of the user ends the trust too.
	now = now.Add(time.Minute)
	if err := m.RevokeUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Trusted(ctx, token); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("a trust older than a sign-out everywhere: %v", err)
	}

	now = now.Add(time.Minute)
	second, _, _ := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "Safari", System: "iOS"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
	list, _ := m.TrustedBrowsers(ctx, "alice")
	if len(list) != 2 {
		t.Fatalf("%d trusts listed, want 2", len(list))
	}
	if err := m.Untrust(ctx, "alice", list[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Trusted(ctx, second); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("an ended trust: %v", err)
	}
	third, _, _ := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "Edge", System: "Windows"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
	if err := UntrustAll(ctx, st, "example.com", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Trusted(ctx, third); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("a trust after UntrustAll: %v", err)
	}
	fourth, _, _ := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "Edge", System: "Windows"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
	now = now.Add(2 * time.Hour)
	if _, _, err := m.Trusted(ctx, fourth); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("an expired trust: %v", err)
	}
}

// TestTrustReplaces: a trust made in place of another (the browser's,
// given up with its cookie), a second later or more, takes its place in
// the same step (its ID: TestAReTrustKeepsTheTrustsID), and no other's.
func TestTrustReplaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, _ := newManager(t, "HS256", &now)
	other, _, _ := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "Safari", System: "iOS"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
	old, _, _ := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "Firefox", System: "Linux"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
	now = now.Add(time.Second)
	again, _, err := m.TrustHeld(ctx, Began{}, "alice", old, "", time.Time{}, Where{Browser: "Firefox", System: "Linux"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := m.TrustedBrowsers(ctx, "alice"); len(list) != 2 {
		t.Fatalf("%d trusts listed, want 2: %+v", len(list), list)
	}
	for token, want := range map[string]error{other: nil, old: ErrNotTrusted, again: nil} {
		if _, _, err := m.Trusted(ctx, token); !errors.Is(err, want) {
			t.Errorf("Trusted = %v, want %v", err, want)
		}
	}
}

// TestUntrustBrowser: a sign-out ends the trusts it names and every one
// its browser earned (TrustedBrowser.Known), in one step; the user's other
// browsers, and trusts from before browsers were named, keep theirs. A
// session names the trust it came from (Claims.Trust), "" for none.
func TestUntrustBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, _ := newManager(t, "HS256", &now)
	trust := func(known string) *TrustedBrowser {
		_, tb, err := m.TrustHeld(ctx, Began{}, "alice", "", known, time.Time{}, Where{Browser: "Firefox", System: "Linux"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	here, there, other, unnamed, named := trust("B1"), trust("B1"), trust("B2"), trust(""), trust("")
	ended, err := m.UntrustBrowser(ctx, "alice", []string{"B1"}, named.ID, "")
	if err != nil || len(ended) != 3 {
		t.Fatalf("UntrustBrowser = %v, %v; want 3 ended", ended, err)
	}
	list, _ := m.TrustedBrowsers(ctx, "alice")
	if len(list) != 2 || list[0].ID != other.ID || list[1].ID != unnamed.ID {
		t.Fatalf("left after %s and %s ended: %+v", here.ID, there.ID, list)
	}

	token, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Trust: other.ID})
	if cl, _ := m.Verify(token); err != nil || cl.Trust == nil || *cl.Trust != other.ID {
		t.Fatalf("a session made by a trust names %+v, want %s", cl, other.ID)
	}
	token, _ = m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if cl, _ := m.Verify(token); cl.Trust == nil || *cl.Trust != "" {
		t.Fatalf("a session made by no trust names %+v, want none (\"\")", cl.Trust)
	}
}
