package session

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// gatesRemember is a gate's default `remember` (caddymodule.DefaultRemember):
// the trusts these tests make give sessions that count (trustedHere).
const gatesRemember = 30 * 24 * time.Hour

func newManager(t *testing.T, alg string, now *time.Time) (*Manager, store.Store) {
	t.Helper()
	st := storetest.Badger(t)
	m, err := NewManager(context.Background(), Config{Store: st, Realm: "example.com", Alg: alg, Lifetime: time.Hour,
		Remember: gatesRemember, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return awaitingPolls(m), st
}

// awaitingPolls has a manager's requests wait for the polls they start, as
// they do when the store answers within pollWait: these tests move a clock
// the poll reads, and on a loaded machine a poll delayed past pollWait
// (100 ms of real time) read it while the test moved it (a data race
// under -race: TestManagerIssueCheckRevoke). Their stores always answer.
func awaitingPolls(m *Manager) *Manager {
	if m != nil {
		m.pollWait = time.Minute
	}
	return m
}

func TestManagerIssueCheckRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []string{"HS256", "EdDSA"} {
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		m, st := newManager(t, alg, &now)
		tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		cl := m.Check(ctx, tok)
		if cl == nil || cl.Subject != "alice" {
			t.Fatalf("%s: Check = %+v", alg, cl)
		}
		if f := cl.Facts(); f.User != "alice" || f.AMR != "sms" || f.AuthTime != "1796119200" {
			t.Fatalf("%s: facts %+v", alg, f)
		}
		// Another gate on the same store shares the secret and sees logouts.
		other, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: alg, Lifetime: time.Hour, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		awaitingPolls(other)
		if other.Check(ctx, tok) == nil {
			t.Fatalf("%s: a second manager on the store refuses the session", alg)
		}
		if _, err := m.Revoke(ctx, tok, cl); err != nil {
			t.Fatal(err)
		}
		if m.Check(ctx, tok) != nil {
			t.Fatalf("%s: a revoked session is still accepted here", alg)
		}
		now = now.Add(RevocationPoll + time.Second)
		if other.Check(ctx, tok) != nil {
			t.Fatalf("%s: a revoked session is accepted by the other gate after the poll", alg)
		}
		// RevokeUser ends all of a user's sessions, even cached ones.
		tok2, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
		if m.Check(ctx, tok2) == nil {
			t.Fatal("a new session is refused")
		}
		now = now.Add(time.Second)
		if err := m.RevokeUser(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		now = now.Add(RevocationPoll + time.Second)
		if m.Check(ctx, tok2) != nil {
			t.Fatalf("%s: a session survives RevokeUser", alg)
		}
		// A session of another realm is never accepted.
		foreign, _ := NewManager(ctx, Config{Store: st, Realm: "other.example", Alg: alg, Lifetime: time.Hour, Now: func() time.Time { return now }})
		awaitingPolls(foreign)
		tok3, _ := foreign.Issue(ctx, "alice", nil, Where{})
		if m.Check(ctx, tok3) != nil {
			t.Fatalf("%s: another realm's session is accepted", alg)
		}
	}
}

func TestAssertionsAreNotSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, _ := newManager(t, "EdDSA", &now)
	tok, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	a, err := m.Assertion(m.Check(ctx, tok), "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Check(ctx, a) != nil {
		t.Fatal("an assertion passed as a session")
	}
	hs, _ := newManager(t, "HS256", &now)
	tok, _ = hs.Issue(ctx, "alice", nil, Where{})
	if _, err := hs.Assertion(hs.Check(ctx, tok), ""); err == nil {
		t.Fatal("HS256 made an assertion")
	}
}

// TestIssueAnswersTheSessionsID: what IssueBegun and IssueTrusted answer
// beside the token is the token's own sid, so that the pages name the
// session (the known-browser cookie) without verifying the token again.
func TestIssueAnswersTheSessionsID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, _ := newManager(t, "EdDSA", &now)
	tok, sid, err := m.IssueBegun(ctx, m.Begin(), "alice", []factor.AMR{factor.AMRSMS}, Where{})
	trusted, trustedSID, errTrusted := m.IssueTrusted(ctx, Began{}, "alice", madeTrust(t, m, "alice", []factor.AMR{factor.AMRSMS}, now.Unix()), Where{})
	for _, s := range []struct {
		tok, sid string
		err      error
	}{{tok, sid, err}, {trusted, trustedSID, errTrusted}} {
		if s.err != nil {
			t.Fatal(s.err)
		}
		cl, err := m.Verify(s.tok)
		if err != nil || s.sid == "" || cl.SID != s.sid {
			t.Fatalf("verified %v: sid %q answered, the token's %+v", err, s.sid, cl)
		}
	}
	if sid == trustedSID {
		t.Fatal("two sessions, one sid")
	}
}

// TestAnAssertionNamesItsAppsHost: an assertion names the host of the app
// it is for (from a Host, host:port or URL, as proxies say it), and one
// session's assertions for two apps are two, each naming its own.
func TestAnAssertionNamesItsAppsHost(t *testing.T) {
	t.Parallel()
	for app, want := range map[string]string{
		"app.example.com": "app.example.com", "App.Example.com:8443": "app.example.com",
		"https://app.example.com/x?y=1": "app.example.com", "http://[::1]:80/": "::1", "": "",
		"evil.example/x": "", "a b": "", "https://user@app.example.com/": "app.example.com",
	} {
		if got := appHost(app); got != want {
			t.Errorf("appHost(%q) = %q, want %q", app, got, want)
		}
	}
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, _ := newManager(t, "EdDSA", &now)
	tok, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	cl := m.Check(ctx, tok)
	audOf := func(app string) []string {
		a, err := m.Assertion(cl, app)
		if err != nil {
			t.Fatal(err)
		}
		var got Claims
		if _, _, err := jwt.NewParser().ParseUnverified(a, &got); err != nil {
			t.Fatal(err)
		}
		return got.Audience
	}
	realm := AssertionAudience(m.realm)
	if got := audOf("wiki.example.com"); !slices.Equal(got, []string{realm, AssertionAudienceFor(m.realm, "wiki.example.com")}) {
		t.Fatalf("the wiki's assertion names %v", got)
	}
	if got := audOf("https://grafana.example.com/d"); !slices.Equal(got, []string{realm, AssertionAudienceFor(m.realm, "grafana.example.com")}) {
		t.Fatalf("grafana's assertion names %v (the wiki's, reused?)", got)
	}
	if got := audOf(""); !slices.Equal(got, []string{realm}) {
		t.Fatalf("an assertion for no known app names %v", got)
	}
}
