package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
)

// TestAFloodOfHostsKeepsOthersAssertions: a signed-in client at a
// catch-all site (`:443`, `*.example.com`) names a new app at every
// request, its Host, and each is signed. Sending twice as many as the
// cache holds churns only her own session's few: another user's
// assertion is still reused afterwards (before, the flood filled the
// cache and cleared it for everyone, and every session signed again:
// checked at the real bound, 10,000 Hosts; a bound of 500 here keeps the
// test to a second under -race).
func TestAFloodOfHostsKeepsOthersAssertions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, _ := newManager(t, "EdDSA", &now)
	m.assertMax = 500
	claims := func(user string) *Claims {
		tok, err := m.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		return m.Check(ctx, tok)
	}
	alice, mallory := claims("alice"), claims("mallory")
	first, err := m.Assertion(alice, "app.example.com")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second) // a new one would be told apart (its iat)
	for i := range 2 * m.assertMax {
		if _, err := m.Assertion(mallory, fmt.Sprintf("h%d.example.com", i)); err != nil {
			t.Fatal(err)
		}
	}
	if again, err := m.Assertion(alice, "app.example.com"); err != nil || again != first {
		t.Fatalf("alice's assertion after a flood of Hosts from another session: signed again (%v)", err)
	}
	if s := m.assertApps[mallory.SID]; s == nil || s.n != assertionApps || len(m.assertCache) != assertionApps+1 {
		t.Fatalf("the flood holds %d assertions in all", len(m.assertCache))
	}
	// Her latest ones are still reused.
	last := fmt.Sprintf("h%d.example.com", 2*m.assertMax-1)
	a, _ := m.Assertion(mallory, last)
	now = now.Add(time.Second)
	if b, _ := m.Assertion(mallory, last); a != b {
		t.Fatal("the flooding session's latest assertion is not reused")
	}
}

// TestAssertionsPastTheBoundDropAnIdleSession: a session keeps one
// assertion for each of its apps (up to assertionApps), all reused; past
// the cache's bound, one session's go at a time, an idle one's rather than
// one just used, and never everyone's.
func TestAssertionsPastTheBoundDropAnIdleSession(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, _ := newManager(t, "EdDSA", &now)
	m.assertMax = 20
	session := func(sid string) *Claims {
		cl := &Claims{SID: sid, AMR: []factor.AMR{factor.AMRSMS}}
		cl.ExpiresAt = m.keys.NewClaims("example.com", sid, time.Hour).ExpiresAt
		return cl
	}
	alice := session("alice")
	apps := map[string]string{}
	for i := range assertionApps {
		app := fmt.Sprintf("app%d.example.com", i)
		if apps[app], _ = m.Assertion(alice, app); apps[app] == "" {
			t.Fatal("no assertion")
		}
	}
	for i := range 100 {
		now = now.Add(time.Second)
		if _, err := m.Assertion(session(fmt.Sprint("s", i)), "app.example.com"); err != nil {
			t.Fatal(err)
		}
		held := len(m.assertCache)
		if held > m.assertMax || i >= m.assertMax && held < m.assertMax-assertionApps {
			t.Fatalf("%d assertions held, bound %d", held, m.assertMax)
		}
		n := 0
		for _, s := range m.assertApps {
			n += s.n
		}
		if n != held {
			t.Fatalf("%d assertions held, %d listed by session", held, n)
		}
	}
	if m.assertApps["alice"] != nil {
		t.Fatal("the idlest session's assertions are kept")
	}
	// A session's apps, each reused.
	bob := session("bob")
	for app := range apps {
		apps[app], _ = m.Assertion(bob, app)
	}
	now = now.Add(time.Second)
	for app, a := range apps {
		if b, _ := m.Assertion(bob, app); b != a {
			t.Fatalf("bob's assertion for %s signed again", app)
		}
	}
}
